//! The `upgrade-check` renderer: one box per check in the layout of `nova-status upgrade check` (oslo.upgradecheck).

use super::text::{KEY_MAX, TEXT_MAX, display_safe};
use crate::checks::ids::Check;
use crate::findings::{CellState, Outcome, Report, Severity};

/// One box: its title and the checks whose findings it shows.
pub struct UpgradeBox<'a> {
    pub title: &'a str,
    pub checks: &'a [Check],
}

/// oslo.upgradecheck's `Code`: the box's verdict and its number in the JSON form.
fn verdict(worst: Option<Severity>) -> (&'static str, u8) {
    match worst {
        Some(Severity::Failure) => ("Failure", 2),
        Some(Severity::Warning) => ("Warning", 1),
        _ => ("Success", 0),
    }
}

/// Python's `textwrap.wrap(text, 60, subsequent_indent='  ')`, as oslo.upgradecheck wraps details.
fn wrap60(text: &str) -> Vec<String> {
    const WIDTH: usize = 60;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let indent = if lines.is_empty() { 0 } else { 2 };
            let room =
                (WIDTH - indent).saturating_sub(cur.chars().count() + usize::from(!cur.is_empty()));
            let len = word.chars().count();
            if len <= room {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if cur.is_empty() {
                // A word longer than a line is cut, as break_long_words does.
                let head: String = word.chars().take(room).collect();
                word = word.chars().skip(room).collect();
                lines.push(head);
                continue;
            }
            lines.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    for l in lines.iter_mut().skip(1) {
        l.insert_str(0, "  ");
    }
    lines
}

/// Each box's title, verdict and detail lines (`None` when nothing was found, as nova-status prints it).
///
/// `human`: values from databases are made terminal-safe (the JSON form keeps them exact).
fn boxes(
    report: &Report,
    spec: &[UpgradeBox<'_>],
    human: bool,
) -> Vec<(String, &'static str, u8, Option<String>)> {
    let safe = |s: &str, max: usize| -> String {
        if human {
            display_safe(s, max).into_owned()
        } else {
            s.to_string()
        }
    };
    spec.iter()
        .map(|b| {
            let found: Vec<_> = report
                .findings
                .iter()
                .filter(|f| b.checks.contains(&f.check))
                .collect();
            let mut worst = found.iter().map(|f| f.severity).max();
            let mut details: Vec<String> = found
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}): {}",
                        f.severity.as_str(),
                        safe(&f.cell, KEY_MAX),
                        safe(&f.message, TEXT_MAX)
                    )
                })
                .collect();
            for c in report.checks.iter().filter(|c| b.checks.contains(&c.check)) {
                match &c.outcome {
                    Outcome::Skipped { reason } => {
                        details.push(format!(
                            "skipped in {}: {}",
                            safe(&c.cell, KEY_MAX),
                            safe(reason, TEXT_MAX)
                        ));
                    }
                    Outcome::Unavailable => {
                        details.push(format!(
                            "not checked in {}: the cell could not be read",
                            safe(&c.cell, KEY_MAX)
                        ));
                        worst = worst.max(Some(Severity::Warning));
                    }
                    Outcome::Ran => {}
                }
            }
            let (word, code) = verdict(worst);
            let text = (!details.is_empty()).then(|| {
                details
                    .iter()
                    .flat_map(|d| wrap60(d))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            (b.title.to_string(), word, code, text)
        })
        .collect()
}

/// The table `nova-status upgrade check` prints (PrettyTable, one left-aligned column, a rule after every row).
pub fn render(report: &Report, spec: &[UpgradeBox<'_>]) -> String {
    let mut rows: Vec<Vec<String>> = vec![vec!["Upgrade Check Results".to_string()]];
    if let Some(why) = &report.aborted {
        rows.push(
            std::iter::once("Check: cellaudit".to_string())
                .chain(std::iter::once("Result: Failure".to_string()))
                .chain(
                    wrap60(&display_safe(why, TEXT_MAX))
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| if i == 0 { format!("Details: {l}") } else { l }),
                )
                .collect(),
        );
    } else {
        for (title, word, _, details) in boxes(report, spec, true) {
            let mut cell = vec![format!("Check: {title}"), format!("Result: {word}")];
            match details {
                None => cell.push("Details: None".to_string()),
                Some(d) => {
                    for (i, l) in d.lines().enumerate() {
                        cell.push(if i == 0 {
                            format!("Details: {l}")
                        } else {
                            l.to_string()
                        });
                    }
                }
            }
            rows.push(cell);
        }
    }
    let width = rows
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let rule = format!("+{}+\n", "-".repeat(width + 2));
    let mut out = rule.clone();
    for row in &rows {
        for l in row {
            out.push_str(&format!("| {l:<width$} |\n"));
        }
        out.push_str(&rule);
    }
    let unread: Vec<String> = report
        .cells
        .iter()
        .filter(|c| c.status != CellState::Ok)
        .map(|c| display_safe(&c.name, KEY_MAX).into_owned())
        .collect();
    if !unread.is_empty() && report.aborted.is_none() {
        out.push_str(&format!("Cells not read: {}\n", unread.join(", ")));
    }
    out
}

/// oslo.upgradecheck's `--json` form: `{"name": ..., "checks": [{"check", "result", "details"}]}`.
pub fn render_json(report: &Report, spec: &[UpgradeBox<'_>]) -> String {
    let checks: Vec<serde_json::Value> = match &report.aborted {
        Some(why) => vec![serde_json::json!({"check": "cellaudit", "result": 2, "details": why})],
        None => boxes(report, spec, false)
            .into_iter()
            .map(|(title, _, code, details)| {
                serde_json::json!({"check": title, "result": code, "details": details})
            })
            .collect(),
    };
    let mut s = serde_json::json!({"name": "Upgrade Check Results", "checks": checks}).to_string();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::wrap60;
    use crate::findings::{Check, Kind};

    #[test]
    fn hostile_values_are_escaped_in_the_box_but_exact_in_json() {
        use crate::findings::{CellState, CellStatus, Finding, Report, Role, Severity};
        let hostile = "cell\x1b]0;pwned\x07\r\x08\0";
        let mut r = Report::new(
            "cells-v2",
            vec![CellStatus {
                name: hostile.into(),
                role: Role::Cell,
                status: CellState::Unreachable,
                error: Some("down".into()),
                url: "mysql://x@h/nova".into(),
                schema_version: None,
                release: None,
                read_seconds: None,
                rows_read: None,
            }],
        );
        r.findings.push(Finding::new(
            Check::HostMappings,
            Kind::UnmappedHost,
            Severity::Failure,
            hostile,
            &[("host", hostile)],
            format!("host '{hostile}' has no mapping"),
        ));
        r.finish();
        let spec = [super::UpgradeBox {
            title: "Cells v2",
            checks: &[Check::HostMappings],
        }];
        let text = super::render(&r, &spec);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && crate::render::text::is_unsafe(c)),
            "{text:?}"
        );
        assert!(
            text.contains("cell\\x1b]0;pwned\\x07\\r\\x08\\x00"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&super::render_json(&r, &spec)).unwrap();
        // The JSON form carries the data unescaped (oslo.upgradecheck's wrapping still splits at CR).
        let details = json["checks"][0]["details"].as_str().unwrap();
        assert!(details.contains("cell\x1b]0;pwned\x07"), "{details:?}");
    }

    #[test]
    fn details_wrap_like_textwrap() {
        let w = wrap60(
            "There is no placement-api endpoint in the service catalog. and some more words to wrap here ok",
        );
        assert_eq!(
            w,
            vec![
                "There is no placement-api endpoint in the service catalog.",
                "  and some more words to wrap here ok"
            ]
        );
        assert_eq!(
            wrap60(&"x".repeat(70)),
            vec!["x".repeat(60), format!("  {}", "x".repeat(10))]
        );
    }
}
