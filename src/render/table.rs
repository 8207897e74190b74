//! The human renderer: the verdict, the cells, the check × cell matrix, then failures, warnings and info,
//! and a last line saying what to do next.
//!
//! Everything fits the width of [`Term`]: the finding text wraps, key columns never do; when a findings
//! table would leave the finding text too narrow, every finding is shown as a compact block instead
//! (a header line `FAILURE child2 aggregates/missing_in_child aggregate=az-west-agg`, the text indented
//! below). Values from databases pass through [`display_safe`] on their way in.

use super::term::Term;
use super::text::{Cell, KEY_MAX, Paint, TEXT_MAX, Table, display_safe, paint_diff_line, wrap};
use crate::checks::ids::Check;
use crate::findings::{CellState, CellStatus, Finding, Outcome, Report, Role, Severity};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;

/// The finding text is not worth reading in a column narrower than this: use the compact layout.
const MIN_FINDING_WIDTH: usize = 44;

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

pub fn severity_paint(s: Severity) -> Paint {
    match s {
        Severity::Failure => Paint::Failure,
        Severity::Warning => Paint::Warning,
        Severity::Info => Paint::Info,
    }
}

/// One matrix cell: `ok`, the worst severity with a count, or why the check did not run.
pub fn matrix_cell(report: &Report, check: Check, cell: &str) -> (String, Paint) {
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
        Some(Outcome::Skipped { .. }) => ("skipped".into(), Paint::Muted),
        Some(Outcome::Unavailable) => ("unreadable".into(), Paint::Warning),
        None if found.is_empty() => ("-".into(), Paint::Muted),
        _ if found.is_empty() => ("ok".into(), Paint::Ok),
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
            (format!("{tag} {}", found.len()), severity_paint(worst))
        }
    }
}

/// Check names in the order they ran (then any only seen in findings).
pub fn check_names(report: &Report) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
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
    checks
}

/// The parent's and the child's value of a drifted string, when the finding has both.
pub fn drift_values(f: &Finding) -> Option<(&str, &str)> {
    if !f.kind.is_value_drift() {
        return None;
    }
    Some((f.parent.as_ref()?.as_str()?, f.child.as_ref()?.as_str()?))
}

/// The character diff of two values as `kept[-removed-]{+added+}` (both already made safe).
pub fn inline_diff(p: &str, c: &str) -> String {
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
    inline.replace("-][-", "").replace("+}{+", "")
}

/// A drifted string shown as parent/child lines plus a character diff, so `az-east` vs `az-East` is obvious.
fn diff_lines(f: &Finding) -> Option<String> {
    let (p, c) = drift_values(f)?;
    let (p, c) = (display_safe(p, TEXT_MAX), display_safe(c, TEXT_MAX));
    Some(format!(
        "- parent: {p}\n+ {}: {c}\n  diff: {}",
        display_safe(&f.cell, KEY_MAX),
        inline_diff(&p, &c)
    ))
}

/// The message, the impact and the diff, each line made safe.
fn finding_text(f: &Finding) -> String {
    let mut s = display_safe(&f.message, TEXT_MAX).into_owned();
    if let Some(i) = &f.impact {
        let _ = write!(s, "\nImpact: {}", display_safe(i, TEXT_MAX));
    }
    if let Some(d) = diff_lines(f) {
        let _ = write!(s, "\n{d}");
    }
    s
}

fn key_lines(f: &Finding, sep: &str) -> Vec<String> {
    f.key
        .iter()
        .map(|(k, v)| format!("{k}{sep}{}", display_safe(v, KEY_MAX)))
        .collect()
}

fn role_name(r: Role) -> String {
    format!("{r:?}").to_lowercase()
}

/// The Nova release(s) a cell's schema version belongs to, when known.
pub fn release_of(c: &CellStatus) -> Option<String> {
    c.release.clone()
}

fn heading(out: &mut String, text: &str, paint: Paint, term: &Term) {
    for l in wrap(text, term.width) {
        let _ = writeln!(out, "{}", paint.paint(&l, term.color));
    }
}

fn verdict_line(report: &Report, term: &Term) -> String {
    let all: Vec<&Finding> = report.findings.iter().collect();
    let (verdict, paint) = match report.worst_severity() {
        Some(Severity::Failure) => ("FAILURE", Paint::Failure),
        Some(Severity::Warning) => ("WARNING", Paint::Warning),
        _ => ("SUCCESS", Paint::Ok),
    };
    let detail = if all.is_empty() {
        "no findings".to_string()
    } else {
        counts(&all)
    };
    let line = format!(
        "Result: {verdict} ({detail}; exit code {})",
        crate::exit_codes::for_report(report)
    );
    let mut lines = wrap(&line, term.width);
    if let Some(first) = lines.first_mut() {
        *first = first.replacen(verdict, &paint.paint(verdict, term.color), 1);
    }
    lines.join("\n")
}

fn cells_table(report: &Report, term: &Term) -> String {
    let with_release = report.cells.iter().any(|c| release_of(c).is_some());
    let mut head = vec!["cell", "role", "status"];
    if with_release {
        head.push("release");
    }
    head.push("database / error");
    let last = head.len() - 1;
    let mut t = Table::new(&head).wrap_column(last, 20);
    for c in &report.cells {
        let (status, paint) = match c.status {
            CellState::Ok => ("ok", Paint::Ok),
            CellState::Unreachable => ("UNREACHABLE", Paint::Failure),
            CellState::Misconfigured => ("MISCONFIGURED", Paint::Failure),
        };
        let detail = match (&c.error, &c.schema_version) {
            (Some(e), _) => e.clone(),
            (None, Some(v)) => format!("{} ({v})", c.url),
            (None, None) => c.url.clone(),
        };
        let mut row = vec![
            Cell::plain(display_safe(&c.name, 32)),
            Cell::plain(role_name(c.role)),
            Cell::painted(status, paint),
        ];
        if with_release {
            row.push(Cell::plain(display_safe(
                &release_of(c).unwrap_or_else(|| "-".into()),
                24,
            )));
        }
        row.push(Cell::plain(display_safe(&detail, TEXT_MAX)));
        t.push(row);
    }
    t.render_anyway(Some(term.width), term.color)
}

/// The check × cell matrix, split into several tables side by side in order when the cells do not fit.
fn matrix(report: &Report, term: &Term) -> String {
    let checks = check_names(report);
    let check_w = checks
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let names: Vec<String> = report
        .cells
        .iter()
        .map(|c| display_safe(&c.name, 24).into_owned())
        .collect();
    let col_w: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let widest = checks
                .iter()
                .map(|ch| super::text::width(&matrix_cell(report, *ch, &report.cells[i].name).0))
                .max()
                .unwrap_or(0);
            super::text::width(n).max(widest)
        })
        .collect();
    // Greedy chunks: as many cell columns as fit next to the check column.
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut used = check_w + 4;
    for (i, w) in col_w.iter().enumerate() {
        if !cur.is_empty() && used + w + 3 > term.width {
            chunks.push(std::mem::take(&mut cur));
            used = check_w + 4;
        }
        cur.push(i);
        used += w + 3;
    }
    if !cur.is_empty() || chunks.is_empty() {
        chunks.push(cur);
    }
    let mut out = Vec::new();
    for chunk in chunks {
        let mut head = vec![Cell::plain("check")];
        head.extend(chunk.iter().map(|&i| Cell::plain(names[i].clone())));
        let mut t = Table::from_head(head);
        for check in &checks {
            let mut row = vec![Cell::plain(check.as_str())];
            row.extend(chunk.iter().map(|&i| {
                let (text, paint) = matrix_cell(report, *check, &report.cells[i].name);
                Cell::painted(text, paint)
            }));
            t.push(row);
        }
        out.push(t.render_anyway(Some(term.width), term.color));
    }
    out.join("\n")
}

/// One finding as a compact block: a header line, then the text indented by two spaces.
fn compact_block(f: &Finding, term: &Term) -> String {
    let mut out = String::new();
    let sev = f.severity.as_str().to_uppercase();
    let header = format!(
        "{sev} {} {}/{} {}",
        display_safe(&f.cell, KEY_MAX),
        f.check,
        f.kind,
        key_lines(f, "=").join(" ")
    );
    // Continuation lines of a long header are indented, so they never look like a new finding.
    let mut lines = wrap(&header, term.width);
    if lines.len() > 1 {
        let rest = lines.split_off(1).join(" ");
        lines.extend(super::text::wrap_indented(&rest, term.width, 4));
    }
    for (i, line) in lines.into_iter().enumerate() {
        let shown = if i == 0 && term.color {
            format!(
                "{}{}",
                severity_paint(f.severity).paint(&sev, true),
                Paint::Bold.paint(&line[sev.len()..], true)
            )
        } else {
            Paint::Bold.paint(&line, term.color)
        };
        let _ = writeln!(out, "{shown}");
    }
    for line in wrap(&finding_text(f), term.width.saturating_sub(2).max(1)) {
        let _ = writeln!(out, "  {}", paint_diff_line(&line, term.color));
    }
    out
}

/// The findings of one severity as a table, or `None` when the table would not fit.
fn findings_table(found: &[&Finding], term: &Term) -> Option<String> {
    let mut t = Table::new(&["cell", "check / kind", "object", "finding"])
        .wrap_column(3, MIN_FINDING_WIDTH);
    for f in found {
        t.push(vec![
            Cell::plain(display_safe(&f.cell, KEY_MAX)),
            Cell::plain(format!("{}\n{}", f.check, f.kind)),
            Cell::plain(key_lines(f, ": ").join("\n")),
            Cell::with_painter(finding_text(f), paint_diff_line),
        ]);
    }
    t.render(Some(term.width), term.color)
}

/// What the reader can do next, given what was found.
fn next_steps(report: &Report) -> String {
    let worst = report
        .findings
        .iter()
        .find(|f| f.severity != Severity::Info);
    let Some(first) = worst.or(report.findings.first()) else {
        return "Next: nothing to do; run this audit again after changes (or from a timer, see contrib/)."
            .into();
    };
    let mut parts = Vec::new();
    let subject = [
        ("aggregate", "aggregate"),
        ("instance", "instance"),
        ("host", "host"),
        ("availability_zone", "az"),
        ("az", "az"),
    ]
    .into_iter()
    .find_map(|(k, s)| first.key.get(k).map(|v| (s, v)));
    if let Some((s, v)) = subject {
        let v = display_safe(v, KEY_MAX);
        let v = if v.contains([' ', '\'', '"', '\\']) || v.is_empty() {
            format!("'{}'", v.replace('\'', "'\\''"))
        } else {
            v.into_owned()
        };
        parts.push(format!(
            "`cellaudit explain {s} {v}` (with the same database options) shows one object across every cell"
        ));
    }
    let fixable = report
        .findings
        .iter()
        .filter(|f| crate::sync::SYNC_CHECKS.contains(&f.check) && f.severity != Severity::Info)
        .count();
    if fixable > 0 && report.topology == "cells-v1" {
        parts.push(format!(
            "`cellaudit sync` (a dry run unless --apply) plans fixes for the {fixable} findings of the {} checks",
            crate::checks::join_names(crate::sync::SYNC_CHECKS)
        ));
    }
    if parts.is_empty() {
        parts.push("`cellaudit audit --format json` gives every finding's full values".into());
    }
    format!("Next: {}.", parts.join("; "))
}

/// Renders for this run's terminal.
pub fn render(report: &Report) -> String {
    render_for(report, super::term::current())
}

pub fn render_for(report: &Report, term: &Term) -> String {
    let mut out = String::new();
    let children = report
        .cells
        .iter()
        .filter(|c| c.role == Role::Child)
        .count();
    let parent = report
        .cells
        .first()
        .map(|c| display_safe(&c.name, KEY_MAX).into_owned())
        .unwrap_or_else(|| "?".into());
    let cells_v2 = report
        .cells
        .iter()
        .filter(|c| matches!(c.role, Role::Cell | Role::Cell0))
        .count();
    let title = if report.cells.first().is_some_and(|c| c.role == Role::Api) {
        format!(
            "cellaudit {}: {} audit of API database '{parent}' and {cells_v2} cell{}",
            report.version,
            report.topology,
            if cells_v2 == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "cellaudit {}: {} audit of parent '{parent}' and {children} child cell{}",
            report.version,
            report.topology,
            if children == 1 { "" } else { "s" }
        )
    };
    for l in wrap(&title, term.width) {
        let _ = writeln!(out, "{l}");
    }
    if report.aborted.is_none() {
        let _ = writeln!(out, "{}", verdict_line(report, term));
    }
    out.push('\n');

    heading(&mut out, "CELLS", Paint::Bold, term);
    let _ = writeln!(out, "{}\n", cells_table(report, term));

    if let Some(why) = &report.aborted {
        for l in wrap(
            &format!("AUDIT NOT RUN: {}", display_safe(why, TEXT_MAX)),
            term.width,
        ) {
            let _ = writeln!(out, "{}", Paint::Failure.paint(&l, term.color));
        }
        return out;
    }

    heading(&mut out, "SUMMARY (check x cell)", Paint::Bold, term);
    let _ = writeln!(out, "{}", matrix(report, term));
    for c in &report.checks {
        if let Outcome::Skipped { reason } = &c.outcome {
            let line = format!(
                "{} skipped in {}: {}",
                c.check,
                display_safe(&c.cell, KEY_MAX),
                display_safe(reason, TEXT_MAX)
            );
            for l in super::text::wrap_indented(&line, term.width, 2) {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    out.push('\n');

    let sections: Vec<(Severity, &str, Vec<&Finding>)> = [
        (Severity::Failure, "FAILURES"),
        (Severity::Warning, "WARNINGS"),
        (Severity::Info, "INFO"),
    ]
    .into_iter()
    .map(|(s, title)| {
        let found: Vec<&Finding> = report.findings.iter().filter(|f| f.severity == s).collect();
        (s, title, found)
    })
    .filter(|(_, _, found)| !found.is_empty())
    .collect();
    let tables: Option<Vec<String>> = sections
        .iter()
        .map(|(_, _, found)| findings_table(found, term))
        .collect();
    for (i, (sev, title, found)) in sections.iter().enumerate() {
        heading(
            &mut out,
            &format!("{title} ({})", found.len()),
            severity_paint(*sev),
            term,
        );
        match &tables {
            Some(t) => {
                let _ = writeln!(out, "{}\n", t[i]);
            }
            None => {
                for f in found {
                    let _ = writeln!(out, "{}", compact_block(f, term));
                }
            }
        }
    }

    let _ = writeln!(out, "{}", verdict_line(report, term));
    for l in wrap(&next_steps(report), term.width) {
        let _ = writeln!(out, "{l}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Kind;
    use crate::findings::{CellStatus, Finding};

    fn report(name: &str) -> Report {
        let cell = |n: &str, role| CellStatus {
            name: n.into(),
            role,
            status: CellState::Ok,
            error: None,
            url: "sqlite:///x".into(),
            schema_version: None,
            release: None,
            read_seconds: None,
            rows_read: None,
        };
        let mut r = Report::new(
            "cells-v1",
            vec![cell("api", Role::Parent), cell("c1", Role::Child)],
        );
        r.findings.push(
            Finding::new(
                Check::Aggregates,
                Kind::MissingInChild,
                Severity::Failure,
                "c1",
                &[("aggregate", name)],
                format!("parent aggregate '{name}' is missing"),
            )
            .impact("hosts lose their AZ"),
        );
        r.findings.push(
            Finding::new(
                Check::AvailabilityZones,
                Kind::ValueDiffers,
                Severity::Warning,
                "c1",
                &[("aggregate", "az-east-agg")],
                "AZ differs".into(),
            )
            .values("az-east", "az-East"),
        );
        r.finish();
        r
    }

    #[test]
    fn no_line_is_wider_than_the_terminal_and_no_control_character_survives() {
        let hostile = format!("\x1b[2J\x1b]0;pwned\x07\r\x08\0{}", "n".repeat(65536));
        for width in [20, 40, 80, 100, 120, 200] {
            let text = render_for(&report(&hostile), &Term::plain(width));
            for l in text.lines() {
                assert!(super::super::text::width(l) <= width, "{width}: {l}");
                assert!(!l.chars().any(super::super::text::is_unsafe), "{l:?}");
            }
            assert!(text.len() < 40_000, "{} bytes at {width}", text.len());
            if width >= 80 {
                assert!(
                    text.contains("\\x1b[2J\\x1b]0;pwned\\x07\\r\\x08\\x00"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn narrow_terminals_get_the_compact_layout_and_wide_ones_the_table() {
        let r = report("az-west-agg");
        let narrow = render_for(&r, &Term::plain(60));
        assert!(
            narrow.contains(
                "FAILURE c1 aggregates/missing_in_child aggregate=az-west-agg\n  parent aggregate"
            ),
            "{narrow}"
        );
        let wide = render_for(&r, &Term::plain(120));
        assert!(
            wide.contains("│ c1   │ aggregates       │ aggregate: az-west-agg │"),
            "{wide}"
        );
    }

    #[test]
    fn the_summary_comes_first_failures_before_warnings_and_a_next_step_last() {
        let text = render_for(&report("az-west-agg"), &Term::plain(100));
        let first = text.find("Result: FAILURE").unwrap();
        let cells = text.find("CELLS").unwrap();
        let fail = text.find("FAILURES (1)").unwrap();
        let warn = text.find("WARNINGS (1)").unwrap();
        assert!(first < cells && cells < fail && fail < warn, "{text}");
        let next = text.rfind("\nNext: ").unwrap();
        assert!(next > text.rfind("Result: FAILURE").unwrap(), "{text}");
        assert!(text[next..].starts_with("\nNext: `cellaudit explain aggregate az-west-agg`"));
        assert!(
            !text[next + 1..].contains("\n\n"),
            "the next step is the last paragraph"
        );
        assert!(text.contains("`cellaudit sync`"), "{text}");
    }

    #[test]
    fn colour_only_when_asked_and_it_does_not_change_the_layout() {
        let r = report("az-west-agg");
        let plain = render_for(&r, &Term::plain(100));
        assert!(!plain.contains('\x1b'));
        let mut t = Term::plain(100);
        t.color = true;
        let coloured = render_for(&r, &t);
        assert!(coloured.contains("\x1b[1;31mFAILURE\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[32m{+E+}\x1b[0m"), "{coloured}");
        let stripped = strip_ansi(&coloured);
        assert_eq!(stripped, plain);
    }

    /// Random hostile cell names, keys, messages and values at random widths: never a raw control
    /// character, never a line wider than the terminal (seeded; CELLAUDIT_PROP_CASES for more).
    #[test]
    fn random_hostile_reports_fit_and_stay_safe() {
        let mut seed: u64 = 0x5EED_0004;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % n.max(1) as u64) as usize
        };
        const CHARS: &[char] = &[
            'a', 'b', '-', ' ', ' ', '\x1b', '\n', '\r', '\x08', '\0', '\x7f', '\u{9b}',
            '\u{202e}', '漢', '🦀', '<', '&', '\'',
        ];
        let cases: usize = std::env::var("CELLAUDIT_PROP_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000)
            / 20;
        for _ in 0..cases {
            let mut text = |max: usize| -> String {
                let n = next(max + 1);
                (0..n).map(|_| CHARS[next(CHARS.len())]).collect()
            };
            let name = text(300);
            let cell = text(30);
            let (p, c) = (text(40), text(40));
            let mut r = report(&name);
            r.cells[1].name = cell.clone();
            for f in &mut r.findings {
                f.cell = cell.clone();
            }
            r.findings[1].parent = Some(serde_json::Value::String(p));
            r.findings[1].child = Some(serde_json::Value::String(c));
            let width = 20 + next(230);
            let mut term = Term::plain(width);
            term.color = next(2) == 0;
            let out = strip_ansi(&render_for(&r, &term));
            for l in out.lines() {
                assert!(super::super::text::width(l) <= width, "{width}: {l}");
                assert!(!l.chars().any(super::super::text::is_unsafe), "{l:?}");
            }
        }
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\x1b' {
                for d in it.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
