//! The Prometheus renderer: the report as metrics in the text exposition format, for node_exporter's textfile collector.
//!
//! Every family is a gauge describing the last audit; no sample carries a timestamp, because the
//! textfile collector rejects them. Families whose label sets depend on what was found
//! (`cellaudit_findings`) only list what exists; the per-severity totals are always present, so an
//! alert on them never sees an absent series.

use crate::findings::{CellState, Outcome, Report, Role, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The family that keeps its last value across aborted runs (see [`render`]).
pub const LAST_SUCCESS: &str = "cellaudit_last_success_timestamp_seconds";

/// Escapes a label value as the exposition format requires: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes HELP text: backslash and line feed only.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// One metric family being written: HELP and TYPE first, then its samples.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn gauge(out: &'a mut String, name: &'static str, help: &str) -> Family<'a> {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(out, "# TYPE {name} gauge");
        Family { out, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.out, "{}", self.name);
        if !labels.is_empty() {
            let parts: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// The role as JSON names it, so a new topology's roles need no change here.
fn role(r: Role) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Renders the report. `previous_success` is the last-success timestamp found in the file being
/// replaced: an aborted audit carries it over, so "time since the last good audit" keeps rising
/// instead of vanishing with the series.
pub fn render(report: &Report, previous_success: Option<f64>) -> String {
    let mut out = String::new();
    let ran = report.aborted.is_none();

    Family::gauge(
        &mut out,
        "cellaudit_info",
        "Version and topology of the audit; always 1.",
    )
    .sample(
        &[("version", report.version), ("topology", report.topology)],
        1,
    );
    Family::gauge(
        &mut out,
        "cellaudit_audit_success",
        "1 when the audit ran; 0 when it was aborted (e.g. the parent database could not be read).",
    )
    .sample(&[], u8::from(ran));
    Family::gauge(
        &mut out,
        "cellaudit_exit_code",
        "The exit code of the audit: 0 consistent, 1 warnings only, 2 failures, 255 aborted.",
    )
    .sample(&[], crate::exit_codes::for_report(report));
    if let Some(d) = report.duration_seconds {
        Family::gauge(
            &mut out,
            "cellaudit_audit_duration_seconds",
            "Wall-clock seconds the audit took, from the first connection to the last check.",
        )
        .sample(&[], d);
    }
    if let Some(t) = report.finished_at {
        Family::gauge(
            &mut out,
            "cellaudit_last_run_timestamp_seconds",
            "When the last audit ended, aborted or not, in seconds since the Unix epoch.",
        )
        .sample(&[], t);
    }
    let last_success = if ran {
        report.finished_at.map(|t| t as f64)
    } else {
        previous_success
    };
    if let Some(t) = last_success {
        Family::gauge(
            &mut out,
            LAST_SUCCESS,
            "When an audit last ran to the end (findings or not), in seconds since the Unix epoch.",
        )
        .sample(&[], t);
    }

    let mut cells = Family::gauge(
        &mut out,
        "cellaudit_cell_reachable",
        "1 when the cell's database was read; 0 when it was unreachable or misconfigured.",
    );
    for c in &report.cells {
        cells.sample(
            &[("cell", &c.name), ("role", &role(c.role))],
            u8::from(c.status == CellState::Ok),
        );
    }

    // Per-database read cost, so an operator sees which cell is slow (only databases that were read).
    if report.cells.iter().any(|c| c.read_seconds.is_some()) {
        let mut secs = Family::gauge(
            &mut out,
            "cellaudit_cell_read_seconds",
            "Seconds spent reading the cell's database (connect, snapshot, queries), not counting the wait for a --jobs slot.",
        );
        for c in report.cells.iter().filter(|c| c.read_seconds.is_some()) {
            secs.sample(
                &[("cell", &c.name), ("role", &role(c.role))],
                c.read_seconds.unwrap_or_default(),
            );
        }
    }
    if report.cells.iter().any(|c| c.rows_read.is_some()) {
        let mut rows = Family::gauge(
            &mut out,
            "cellaudit_cell_rows_read",
            "Rows the audit's queries returned from the cell's database (rows the v1 instances check streams are not counted).",
        );
        for c in report.cells.iter().filter(|c| c.rows_read.is_some()) {
            rows.sample(
                &[("cell", &c.name), ("role", &role(c.role))],
                c.rows_read.unwrap_or_default(),
            );
        }
    }

    let mut groups: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
    for f in &report.findings {
        *groups
            .entry((f.check, f.kind, f.severity.as_str(), f.cell.as_str()))
            .or_default() += 1;
    }
    let mut findings = Family::gauge(
        &mut out,
        "cellaudit_findings",
        "Findings of the last audit by check, kind, severity and cell (only combinations that occur).",
    );
    for ((check, kind, severity, cell), n) in &groups {
        findings.sample(
            &[
                ("check", check),
                ("kind", kind),
                ("severity", severity),
                ("cell", cell),
            ],
            n,
        );
    }
    let mut totals = Family::gauge(
        &mut out,
        "cellaudit_findings_by_severity",
        "Findings of the last audit by severity; every severity is always present.",
    );
    for (sev, n) in [
        (Severity::Failure, report.summary.failure),
        (Severity::Warning, report.summary.warning),
        (Severity::Info, report.summary.info),
    ] {
        totals.sample(&[("severity", sev.as_str())], n);
    }

    let skipped: Vec<_> = report
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped { .. }))
        .collect();
    Family::gauge(
        &mut out,
        "cellaudit_checks_skipped",
        "How many (check, cell) pairs were skipped because the cell's schema lacks what the check reads.",
    )
    .sample(&[], skipped.len());
    let mut per_check = Family::gauge(
        &mut out,
        "cellaudit_check_skipped",
        "1 when the check was skipped for the cell (the JSON output says why), 0 when it ran or the cell was unreadable.",
    );
    let mut outcomes: Vec<_> = report.checks.iter().collect();
    outcomes.sort_by(|a, b| (a.check, &a.cell).cmp(&(b.check, &b.cell)));
    outcomes.dedup_by(|a, b| (a.check, &a.cell) == (b.check, &b.cell));
    for c in outcomes {
        per_check.sample(
            &[("check", c.check), ("cell", &c.cell)],
            u8::from(matches!(c.outcome, Outcome::Skipped { .. })),
        );
    }
    if !report.brokers.is_empty() {
        let mut up = Family::gauge(
            &mut out,
            "cellaudit_broker_up",
            "1 when the message broker answered the AMQP 0-9-1 handshake (or TCP, on a TLS port); by the database whose cells row names it and the cell it serves.",
        );
        let mut seen = std::collections::BTreeSet::new();
        for b in &report.brokers {
            if seen.insert((&b.registered_in, &b.cell, &b.broker)) {
                up.sample(
                    &[
                        ("registered_in", &b.registered_in),
                        ("cell", &b.cell),
                        ("broker", &b.broker),
                    ],
                    u8::from(b.up),
                );
            }
        }
    }
    out
}

/// Finds the last-success timestamp in a previous rendering, to carry it over an aborted run.
pub fn last_success_in(text: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(LAST_SUCCESS)?;
        let value = rest.strip_prefix(' ')?;
        value.trim().parse::<f64>().ok().filter(|v| v.is_finite())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{CellStatus, Finding};

    fn report(aborted: bool) -> Report {
        let cell = |name: &str, role, status| CellStatus {
            name: name.into(),
            role,
            status,
            error: None,
            url: String::new(),
            schema_version: None,
            read_seconds: None,
            rows_read: None,
            release: None,
        };
        let mut r = Report::new(
            "cells-v1",
            vec![
                cell("api", Role::Parent, CellState::Ok),
                cell("odd\"cell\\x", Role::Child, CellState::Unreachable),
            ],
        );
        r.findings.push(Finding::new(
            "connectivity",
            "cell_unreachable",
            Severity::Failure,
            "odd\"cell\\x",
            &[("cell", "odd\"cell\\x")],
            "line one\nline two".into(),
        ));
        if aborted {
            r.aborted = Some("parent unreadable".into());
        }
        r.duration_seconds = Some(1.5);
        r.finished_at = Some(1_700_000_000);
        r.finish();
        r
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let text = render(&report(false), None);
        assert!(
            text.contains("cellaudit_cell_reachable{cell=\"odd\\\"cell\\\\x\",role=\"child\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn read_time_and_rows_are_per_read_database() {
        let mut r = report(false);
        r.cells[0].read_seconds = Some(0.25);
        r.cells[0].rows_read = Some(1234);
        let text = render(&r, None);
        assert!(
            text.contains("cellaudit_cell_read_seconds{cell=\"api\",role=\"parent\"} 0.25\n"),
            "{text}"
        );
        assert!(
            text.contains("cellaudit_cell_rows_read{cell=\"api\",role=\"parent\"} 1234\n"),
            "{text}"
        );
        // The unreadable cell has no read figures, so no sample.
        assert!(
            !text.contains("cellaudit_cell_rows_read{cell=\"odd"),
            "{text}"
        );
        assert!(!render(&report(false), None).contains("cellaudit_cell_read_seconds"));
    }

    #[test]
    fn aborted_run_keeps_the_previous_success_time() {
        let ok = render(&report(false), None);
        assert_eq!(last_success_in(&ok), Some(1_700_000_000.0));
        let failed = render(&report(true), last_success_in(&ok));
        assert!(failed.contains("cellaudit_audit_success 0\n"), "{failed}");
        assert!(failed.contains("cellaudit_last_success_timestamp_seconds 1700000000\n"));
        assert!(failed.contains("cellaudit_last_run_timestamp_seconds 1700000000\n"));
        let never = render(&report(true), None);
        assert!(!never.contains(LAST_SUCCESS), "{never}");
    }
}
