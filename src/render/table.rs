//! The human renderer: a cell list, a check × cell matrix, then findings grouped by cell and severity, with diffs.

use crate::findings::{CellState, Finding, Outcome, Report, Role, Severity};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

const FINDING_WIDTH: usize = 78;

fn table(builder: Builder) -> String {
    let mut t = builder.build();
    t.with(Style::sharp());
    t.to_string()
}

/// Word-wraps each line on its own, so explicit line breaks (impact, diff) survive wrapping.
fn wrap(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push(current);
    }
    out.join("\n")
}

fn counts(findings: &[&Finding]) -> String {
    let n = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let mut parts = Vec::new();
    for (sev, word) in [
        (Severity::Failure, "failure"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let c = n(sev);
        if c > 0 {
            let plural = if c > 1 && sev != Severity::Info {
                "s"
            } else {
                ""
            };
            parts.push(format!("{c} {word}{plural}"));
        }
    }
    parts.join(", ")
}

/// One matrix cell: `ok`, the worst severity with a count, or why the check did not run.
fn matrix_cell(report: &Report, check: &str, cell: &str) -> String {
    let outcome = report
        .checks
        .iter()
        .find(|c| c.check == check && c.cell == cell)
        .map(|c| &c.outcome);
    let found: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == check && f.cell == cell)
        .collect();
    match outcome {
        Some(Outcome::Skipped { .. }) => "skipped".into(),
        Some(Outcome::Unavailable) => "unreadable".into(),
        None if found.is_empty() => "-".into(),
        _ if found.is_empty() => "ok".into(),
        _ => {
            let worst = found
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let tag = match worst {
                Severity::Failure => "FAIL",
                Severity::Warning => "WARN",
                Severity::Info => "info",
            };
            format!("{tag} {}", found.len())
        }
    }
}

/// A drifted string shown as parent/child lines plus a character diff, so `az-east` vs `az-East` is obvious.
fn diff_lines(f: &Finding) -> Option<String> {
    if !f.kind.ends_with("_differs") {
        return None;
    }
    let (Some(p), Some(c)) = (f.parent.as_ref()?.as_str(), f.child.as_ref()?.as_str()) else {
        return None;
    };
    let mut inline = String::new();
    for change in TextDiff::from_chars(p, c).iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => inline.push_str(change.value()),
            ChangeTag::Delete => {
                let _ = write!(inline, "[-{}-]", change.value());
            }
            ChangeTag::Insert => {
                let _ = write!(inline, "{{+{}+}}", change.value());
            }
        }
    }
    let inline = inline.replace("-][-", "").replace("+}{+", "");
    Some(format!(
        "- parent: {p}\n+ {}: {c}\n  diff: {inline}",
        f.cell
    ))
}

fn finding_text(f: &Finding) -> String {
    let mut s = f.message.clone();
    if let Some(i) = &f.impact {
        let _ = write!(s, "\nImpact: {i}");
    }
    if let Some(d) = diff_lines(f) {
        let _ = write!(s, "\n{d}");
    }
    s
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let children = report
        .cells
        .iter()
        .filter(|c| c.role == crate::findings::Role::Child)
        .count();
    let parent = report.cells.first().map(|c| c.name.as_str()).unwrap_or("?");
    let cells_v2 = report
        .cells
        .iter()
        .filter(|c| matches!(c.role, Role::Cell | Role::Cell0))
        .count();
    if report.cells.first().is_some_and(|c| c.role == Role::Api) {
        let _ = writeln!(
            out,
            "cellaudit {}: {} audit of API database '{parent}' and {cells_v2} cell{}\n",
            report.version,
            report.topology,
            if cells_v2 == 1 { "" } else { "s" }
        );
    } else {
        let _ = writeln!(
            out,
            "cellaudit {}: {} audit of parent '{parent}' and {children} child cell{}\n",
            report.version,
            report.topology,
            if children == 1 { "" } else { "s" }
        );
    }

    let mut b = Builder::default();
    b.push_record(["cell", "role", "status", "database / error"]);
    for c in &report.cells {
        let status = match c.status {
            CellState::Ok => "ok",
            CellState::Unreachable => "UNREACHABLE",
            CellState::Misconfigured => "MISCONFIGURED",
        };
        let role = format!("{:?}", c.role).to_lowercase();
        let detail = match (&c.error, &c.schema_version, &c.release) {
            (Some(e), _, _) => e.clone(),
            (None, Some(v), Some(r)) => format!("{} ({v}, Nova {r})", c.url),
            (None, Some(v), None) => format!("{} ({v})", c.url),
            (None, None, _) => c.url.clone(),
        };
        b.push_record([
            c.name.as_str(),
            &role,
            status,
            &wrap(&detail, FINDING_WIDTH),
        ]);
    }
    let _ = writeln!(out, "CELLS\n{}\n", table(b));

    if let Some(why) = &report.aborted {
        let _ = writeln!(out, "AUDIT NOT RUN: {why}");
        return out;
    }

    let mut checks: Vec<&str> = Vec::new();
    for name in report
        .checks
        .iter()
        .map(|c| c.check)
        .chain(report.findings.iter().map(|f| f.check))
    {
        if !checks.contains(&name) {
            checks.push(name);
        }
    }
    let mut b = Builder::default();
    let mut head = vec!["check".to_string()];
    head.extend(report.cells.iter().map(|c| c.name.clone()));
    b.push_record(head);
    for check in &checks {
        let mut row = vec![check.to_string()];
        row.extend(
            report
                .cells
                .iter()
                .map(|c| matrix_cell(report, check, &c.name)),
        );
        b.push_record(row);
    }
    let _ = writeln!(out, "SUMMARY (check x cell)\n{}", table(b));
    let skipped: Vec<String> = report
        .checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Skipped { reason } => {
                Some(format!("  {} skipped in {}: {reason}", c.check, c.cell))
            }
            _ => None,
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(out, "{}", skipped.join("\n"));
    }
    out.push('\n');

    for cell in &report.cells {
        let found: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.cell == cell.name)
            .collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(out, "FINDINGS in {} ({})", cell.name, counts(&found));
        let mut b = Builder::default();
        b.push_record(["severity", "check / kind", "object", "finding"]);
        for f in &found {
            b.push_record([
                f.severity.as_str().to_uppercase(),
                format!("{}\n{}", f.check, f.kind),
                f.key
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                wrap(&finding_text(f), FINDING_WIDTH),
            ]);
        }
        let _ = writeln!(out, "{}\n", table(b));
    }

    let all: Vec<&Finding> = report.findings.iter().collect();
    let verdict = match report.worst_severity() {
        Some(Severity::Failure) => "FAILURE",
        Some(Severity::Warning) => "WARNING",
        _ => "SUCCESS",
    };
    let detail = if all.is_empty() {
        "no findings".to_string()
    } else {
        counts(&all)
    };
    let _ = writeln!(
        out,
        "Result: {verdict} ({detail}; exit code {})",
        crate::exit_codes::for_report(report)
    );
    out
}
