//! `--format html`: one self-contained page to hand on (attach it to an upgrade change request).
//!
//! No external assets and no script: styles are inline, filtering by cell and severity is done with radio
//! buttons and CSS `:checked` selectors, and a Content-Security-Policy forbids scripts outright. Every value
//! from a database is made terminal-safe by [`display_safe`] and then HTML-escaped by [`esc`].

use super::table::{check_names, drift_values, matrix_cell, release_of};
use super::text::{Paint, display_safe};
use crate::findings::{CellState, Finding, Outcome, Report, Severity};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;

/// Longest value shown on the page; the JSON report has every value in full.
const HTML_MAX: usize = 8000;

/// `s` made safe (control characters escaped, shortened) and HTML-escaped, for text and attribute values.
pub fn esc(s: &str) -> String {
    esc_raw(&display_safe(s, HTML_MAX))
}

/// HTML-escapes text that is already terminal-safe.
fn esc_raw(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn class_of(p: Paint) -> &'static str {
    match p {
        Paint::Failure => "fail",
        Paint::Warning => "warn",
        Paint::Info => "info",
        Paint::Ok => "ok",
        _ => "na",
    }
}

fn sev_class(s: Severity) -> &'static str {
    match s {
        Severity::Failure => "failure",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time (the civil-from-days algorithm, proleptic Gregorian).
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

const STYLE: &str = r#"
:root{--fail:#b3261e;--fail-bg:#fde7e5;--warn:#8a5a00;--warn-bg:#fff3cd;--info:#0b5c8a;--info-bg:#e3f1fa;
--ok:#1e6b34;--ok-bg:#e3f5e8;--na:#666;--na-bg:#f0f0f0;--line:#d0d0d0}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1.5em;color:#1b1b1b}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f6f6}code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.92em}
pre.cmd{background:#f6f6f6;border:1px solid var(--line);padding:.6em;white-space:pre-wrap;word-break:break-all}
.verdict{display:inline-block;font-weight:700;padding:.3em .8em;border-radius:4px}
.v-failure,.fail{background:var(--fail-bg);color:var(--fail)}.v-warning,.warn{background:var(--warn-bg);color:var(--warn)}
.v-success,.ok{background:var(--ok-bg);color:var(--ok)}.info{background:var(--info-bg);color:var(--info)}.na{background:var(--na-bg);color:var(--na)}
td.g{text-align:center;font-weight:600;white-space:nowrap}
.filters{margin:.4em 0}.filters span{display:inline-block;min-width:5.5em;color:#555}
.filters label{display:inline-block;border:1px solid var(--line);border-radius:3px;padding:.1em .6em;margin:.1em;cursor:pointer}
input.f{position:absolute;opacity:0;width:1px;height:1px}
.finding{border:1px solid var(--line);border-left:6px solid var(--na);border-radius:3px;padding:.4em .8em;margin:.5em 0}
.s-failure{border-left-color:var(--fail)}.s-warning{border-left-color:var(--warn)}.s-info{border-left-color:var(--info)}
.finding h4{margin:.1em 0 .3em;font-size:1em}.sev{font-weight:700;padding:0 .4em;border-radius:3px}
.finding p{margin:.2em 0}.impact{color:#444}.key{color:#333}
table.diff td{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;min-width:14em}
del{background:#ffd0cc;color:#7a0c00;text-decoration:line-through}ins{background:#c9f2d1;color:#0b4d1d;text-decoration:none}
.cell-name{font-weight:600}.muted{color:#666}
@media print{.filters{display:none}.finding{break-inside:avoid}}
"#;

/// The page for `report`; `command` is the command line that produced it, passwords already masked.
pub fn render(report: &Report, command: &str) -> String {
    let mut o = String::new();
    let (verdict, vclass) = match (&report.aborted, report.worst_severity()) {
        (Some(_), _) => ("NOT RUN", "failure"),
        (None, Some(Severity::Failure)) => ("FAILURE", "failure"),
        (None, Some(Severity::Warning)) => ("WARNING", "warning"),
        _ => ("SUCCESS", "success"),
    };
    let first = report.cells.first().map(|c| c.name.as_str()).unwrap_or("?");
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"cellaudit {}\">\n\
         <title>cellaudit {}: {} audit of {} — {verdict}</title>\n<style>{STYLE}",
        esc(report.version),
        esc(report.version),
        esc(report.topology),
        esc(first)
    );
    // One rule per cell: checking its radio button hides every other cell's findings.
    for i in 0..report.cells.len() {
        let _ = writeln!(
            o,
            "#cell-{i}:checked~.findings .finding:not(.c-{i}){{display:none}}\
             #cell-{i}:checked~.filters label[for=cell-{i}]{{background:#333;color:#fff}}"
        );
    }
    for s in ["all", "failure", "warning", "info"] {
        let _ = writeln!(
            o,
            "#sev-{s}:checked~.filters label[for=sev-{s}]{{background:#333;color:#fff}}"
        );
        if s != "all" {
            let _ = writeln!(
                o,
                "#sev-{s}:checked~.findings .group:not(.s-{s}){{display:none}}"
            );
        }
    }
    o.push_str(
        "#cell-all:checked~.filters label[for=cell-all]{background:#333;color:#fff}\n</style>\n</head>\n<body>\n",
    );

    let _ = writeln!(o, "<header>\n<h1>cellaudit report</h1>");
    let all: Vec<&Finding> = report.findings.iter().collect();
    let _ = writeln!(
        o,
        "<p><span class=\"verdict v-{vclass}\" id=\"verdict\">{verdict}</span> \
         {} failure(s), {} warning(s), {} info; exit code {}</p>",
        report.summary.failure,
        report.summary.warning,
        report.summary.info,
        crate::exit_codes::for_report(report)
    );
    let mut when = format!(
        "{} audit by cellaudit {}",
        esc(report.topology),
        esc(report.version)
    );
    if let Some(t) = report.finished_at {
        let _ = write!(when, ", finished {}", utc(t));
    }
    if let Some(d) = report.duration_seconds {
        let _ = write!(when, ", took {d:.1} s");
    }
    let _ = writeln!(o, "<p class=\"muted\">{when}</p>");
    let _ = writeln!(
        o,
        "<p>Command line (passwords masked):</p>\n<pre class=\"cmd\" id=\"command\">{}</pre>\n</header>",
        esc(command)
    );

    // Cells and their releases.
    let _ = writeln!(
        o,
        "<section>\n<h2>Cells</h2>\n<table class=\"cells\">\n<thead><tr><th>cell</th><th>role</th><th>status</th>\
         <th>release</th><th>schema version</th><th>database / error</th></tr></thead>\n<tbody>"
    );
    for c in &report.cells {
        let (status, class) = match c.status {
            CellState::Ok => ("ok", "ok"),
            CellState::Unreachable => ("unreachable", "fail"),
            CellState::Misconfigured => ("misconfigured", "fail"),
        };
        let _ = writeln!(
            o,
            "<tr><td class=\"cell-name\">{}</td><td>{}</td><td class=\"{class}\">{status}</td><td>{}</td>\
             <td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&c.name),
            format!("{:?}", c.role).to_lowercase(),
            esc(&release_of(c).unwrap_or_else(|| "-".into())),
            esc(c.schema_version.as_deref().unwrap_or("-")),
            esc(c.error.as_deref().unwrap_or(&c.url)),
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");

    if let Some(why) = &report.aborted {
        let _ = writeln!(
            o,
            "<section>\n<h2>Audit not run</h2>\n<p class=\"fail\">{}</p>\n</section>\n</body>\n</html>",
            esc(why)
        );
        return o;
    }

    // The check × cell grid.
    let checks = check_names(report);
    let _ = write!(
        o,
        "<section>\n<h2>Checks × cells</h2>\n<table class=\"grid\" id=\"grid\">\n<thead><tr><th>check</th>"
    );
    for c in &report.cells {
        let _ = write!(o, "<th>{}</th>", esc(&c.name));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for check in &checks {
        let _ = write!(o, "<tr><th>{}</th>", esc(check.as_str()));
        for c in &report.cells {
            let (text, paint) = matrix_cell(report, *check, &c.name);
            let _ = write!(
                o,
                "<td class=\"g {}\" title=\"{} in {}\">{}</td>",
                class_of(paint),
                esc(check.as_str()),
                esc(&c.name),
                esc(&text)
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    let skipped: Vec<String> = report
        .checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Skipped { reason } => Some(format!(
                "<li><code>{}</code> skipped in {}: {}</li>",
                esc(c.check.as_str()),
                esc(&c.cell),
                esc(reason)
            )),
            _ => None,
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(o, "<ul class=\"muted\">{}</ul>", skipped.join("\n"));
    }
    o.push_str("</section>\n");

    // Findings: radio buttons first, so the CSS rules above can reach the list through `~`.
    let _ = writeln!(
        o,
        "<section>\n<h2>Findings ({})</h2>",
        if all.is_empty() {
            "none".to_string()
        } else {
            all.len().to_string()
        }
    );
    o.push_str("<input class=\"f\" type=\"radio\" name=\"sev\" id=\"sev-all\" checked>");
    for s in ["failure", "warning", "info"] {
        let _ = write!(
            o,
            "<input class=\"f\" type=\"radio\" name=\"sev\" id=\"sev-{s}\">"
        );
    }
    o.push_str("\n<input class=\"f\" type=\"radio\" name=\"cell\" id=\"cell-all\" checked>");
    for i in 0..report.cells.len() {
        let _ = write!(
            o,
            "<input class=\"f\" type=\"radio\" name=\"cell\" id=\"cell-{i}\">"
        );
    }
    o.push_str(
        "\n<div class=\"filters\">\n<div><span>Severity:</span><label for=\"sev-all\">all</label>",
    );
    for (s, n) in [
        ("failure", report.summary.failure),
        ("warning", report.summary.warning),
        ("info", report.summary.info),
    ] {
        let _ = write!(o, "<label for=\"sev-{s}\">{s} ({n})</label>");
    }
    o.push_str("</div>\n<div><span>Cell:</span><label for=\"cell-all\">all</label>");
    for (i, c) in report.cells.iter().enumerate() {
        let n = report.findings.iter().filter(|f| f.cell == c.name).count();
        let _ = write!(o, "<label for=\"cell-{i}\">{} ({n})</label>", esc(&c.name));
    }
    o.push_str("</div>\n</div>\n<div class=\"findings\">\n");
    for (sev, title) in [
        (Severity::Failure, "Failures"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let found: Vec<&Finding> = all.iter().copied().filter(|f| f.severity == sev).collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "<div class=\"group s-{}\">\n<h3>{title} ({})</h3>",
            sev_class(sev),
            found.len()
        );
        for f in found {
            finding(&mut o, report, f);
        }
        o.push_str("</div>\n");
    }
    o.push_str("</div>\n</section>\n</body>\n</html>\n");
    o
}

/// A finding's parent or child value as a person reads it: strings bare, nothing as `(none)`.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

fn finding(o: &mut String, report: &Report, f: &Finding) {
    let cell_index = report
        .cells
        .iter()
        .position(|c| c.name == f.cell)
        .map(|i| format!(" c-{i}"))
        .unwrap_or_default();
    let sev = sev_class(f.severity);
    let sclass = match f.severity {
        Severity::Failure => "fail",
        Severity::Warning => "warn",
        Severity::Info => "info",
    };
    let _ = writeln!(
        o,
        "<article class=\"finding s-{sev}{cell_index}\">\n<h4><span class=\"sev {sclass}\">{}</span> \
         <span class=\"cell-name\">{}</span> <code>{}/{}</code></h4>",
        sev.to_uppercase(),
        esc(&f.cell),
        esc(f.check.as_str()),
        esc(f.kind.as_str())
    );
    let keys: Vec<String> = f
        .key
        .iter()
        .map(|(k, v)| format!("{}: <code>{}</code>", esc(k), esc(v)))
        .collect();
    if !keys.is_empty() {
        let _ = writeln!(o, "<p class=\"key\">{}</p>", keys.join(", "));
    }
    let _ = writeln!(o, "<p>{}</p>", esc(&f.message));
    if let Some(i) = &f.impact {
        let _ = writeln!(o, "<p class=\"impact\"><b>Impact:</b> {}</p>", esc(i));
    }
    if let Some((p, c)) = drift_values(f) {
        let (p, c) = (display_safe(p, HTML_MAX), display_safe(c, HTML_MAX));
        let (mut left, mut right) = (String::new(), String::new());
        for ch in TextDiff::from_chars(p.as_ref(), c.as_ref()).iter_all_changes() {
            let v = esc_raw(ch.value());
            match ch.tag() {
                ChangeTag::Equal => {
                    left.push_str(&v);
                    right.push_str(&v);
                }
                ChangeTag::Delete => {
                    let _ = write!(left, "<del>{v}</del>");
                }
                ChangeTag::Insert => {
                    let _ = write!(right, "<ins>{v}</ins>");
                }
            }
        }
        let left = left.replace("</del><del>", "");
        let right = right.replace("</ins><ins>", "");
        let _ = writeln!(
            o,
            "<table class=\"diff\"><thead><tr><th>parent</th><th>{}</th></tr></thead>\
             <tbody><tr><td>{left}</td><td>{right}</td></tr></tbody></table>",
            esc(&f.cell)
        );
    } else if let (Some(p), Some(c)) = (&f.parent, &f.child) {
        let _ = writeln!(
            o,
            "<table class=\"diff\"><thead><tr><th>parent</th><th>{}</th></tr></thead>\
             <tbody><tr><td>{}</td><td>{}</td></tr></tbody></table>",
            esc(&f.cell),
            esc(&value_text(p)),
            esc(&value_text(c))
        );
    }
    o.push_str("</article>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_569_931_200), "2019-10-01 12:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            esc("<b id=\"x\">&'\x1b[2J"),
            "&lt;b id=&quot;x&quot;&gt;&amp;&#39;\\x1b[2J"
        );
    }
}
