//! Hostile data in human output (issue 9 item 4): rows whose names hold terminal escapes, CR, BS, NUL,
//! markup and 64 KB reach the audit table, the compact layout, explain, the sync dry run and the HTML
//! report shown escaped and shortened, never raw; JSON keeps them exact. On MariaDB and SQLite, with the
//! rows of fixtures/hostile/ on top of the cells v1 fixture.

mod common;

use cellaudit::render::text::is_unsafe;
use common::{MariaDb, Run, cellaudit_env, root, v1_audit_args, v1_fixtures, v1_topology};
use std::path::PathBuf;
use std::sync::OnceLock;

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
/// Aggregate 90's name, as fixtures/hostile/parent.sql stores it.
const HOSTILE: &str = "evil\x1b[2J\x1b]0;pwned\x07\r\x08\x00\t\x7f\u{9b}<b id=\"pwn\">&'x";
/// The same name as every human output must show it.
const SHOWN: &str = "evil\\x1b[2J\\x1b]0;pwned\\x07\\r\\x08\\x00\\t\\x7f\\u{9b}<b id=\"pwn\">&'x";

fn files(cell: &str, long: &str) -> Vec<PathBuf> {
    let mut f = v1_fixtures(cell, &[""]);
    if cell == "api" {
        f.push(root().join("fixtures/hostile/parent.sql"));
        f.push(root().join(format!("fixtures/hostile/{long}")));
    }
    f
}

fn sqlite() -> &'static Vec<(String, String)> {
    static D: OnceLock<(tempfile::TempDir, Vec<(String, String)>)> = OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cells = CELLS
            .iter()
            .map(|c| {
                let url = common::sqlite_cell(dir.path(), c, &files(c, "long-name.sqlite.sql"));
                (c.to_string(), url)
            })
            .collect();
        (dir, cells)
    })
    .1
}

fn mariadb() -> &'static Vec<(String, String)> {
    static D: OnceLock<Vec<(String, String)>> = OnceLock::new();
    D.get_or_init(|| {
        let server = MariaDb::shared();
        CELLS
            .iter()
            .map(|c| {
                let url = common::mariadb_cell(server, c, &files(c, "long-name.mysql.sql"));
                (c.to_string(), url)
            })
            .collect()
    })
}

/// No control (or bidi/invisible) character other than the line break survives in `text`.
fn assert_safe(what: &str, text: &str) {
    if let Some((i, c)) = text
        .char_indices()
        .find(|&(_, c)| c != '\n' && is_unsafe(c))
    {
        let from = text[..i].char_indices().rev().nth(60).map_or(0, |(j, _)| j);
        panic!("{what}: raw {c:?} at byte {i}, after {:?}", &text[from..i]);
    }
}

fn run(args: Vec<String>, width: &str) -> Run {
    cellaudit_env(&args, &[("COLUMNS", width)])
}

fn audit_args(cells: &[(String, String)]) -> Vec<String> {
    let mut a = v1_audit_args(cells);
    a.extend(["--expect".into(), "all".into(), "-q".into()]);
    a
}

fn audit_is_safe(cells: &[(String, String)], long_len: usize) {
    // 200 columns give the findings table, 80 the compact layout: both must escape and shorten.
    for width in ["80", "200"] {
        let r = run(audit_args(cells), width);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_safe("audit stdout", &r.stdout);
        assert_safe("audit stderr", &r.stderr);
        assert!(r.stdout.contains(SHOWN), "{}", r.stdout);
        assert!(
            r.stdout.contains("az\\x1b[31m-red\\n<i id=\"pwn2\">"),
            "{}",
            r.stdout
        );
        let w: usize = width.parse().unwrap();
        for l in r.stdout.lines() {
            assert!(l.chars().count() <= w, "wider than {w}: {l}");
        }
        // The long name is shown shortened, with how much was left out.
        assert!(
            !r.stdout.contains(&"n".repeat(100)),
            "long name not shortened"
        );
        assert!(r.stdout.contains(" chars]"), "no shortening marker");
        assert!(
            r.stdout.len() < 200_000,
            "{} bytes of table output",
            r.stdout.len()
        );
    }
    // JSON stays exact: the name with its raw bytes, the long name in full.
    let (_, doc) = common::json_run(audit_args(cells));
    let names: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["key"]["aggregate"].as_str())
        .collect();
    assert!(names.contains(&HOSTILE), "{names:?}");
    assert!(names.contains(&"n".repeat(long_len).as_str()));
}

#[test]
fn sqlite_audit_output_escapes_control_characters_and_shortens_a_64_kb_name() {
    audit_is_safe(sqlite(), 65536);
}

#[test]
fn mariadb_audit_output_escapes_control_characters_and_shortens_long_names() {
    audit_is_safe(mariadb(), 255);
}

fn explain_and_sync_are_safe(cells: &[(String, String)]) {
    let mut a = vec![
        "explain".to_string(),
        "aggregate".into(),
        "0a000000-0000-4000-8000-000000000090".into(),
    ];
    a.extend(v1_topology(cells));
    let r = run(a, "80");
    assert_safe("explain stdout", &r.stdout);
    assert_safe("explain stderr", &r.stderr);
    assert!(r.stdout.contains("\\x1b[2J"), "{}", r.stdout);
    for l in r.stdout.lines() {
        assert!(l.chars().count() <= 80, "wider than 80: {l}");
    }

    // The sync dry run prints statements for the SQL client (their literals are the SQL printer's
    // business); every comment and status line around them is human text and must be safe.
    let mut a = vec!["sync".to_string()];
    a.extend(v1_topology(cells));
    let r = run(a, "80");
    assert_safe("sync stderr", &r.stderr);
    let human: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("--") || l.starts_with("==") || l.starts_with("  "))
        .collect();
    assert!(!human.is_empty(), "{}", r.stdout);
    for l in &human {
        assert_safe("sync comment", l);
    }
    assert!(human.iter().any(|l| l.contains("\\x1b[2J")), "{}", r.stdout);
}

#[test]
fn sqlite_explain_and_sync_text_escape_control_characters() {
    explain_and_sync_are_safe(sqlite());
}

#[test]
fn mariadb_explain_and_sync_text_escape_control_characters() {
    explain_and_sync_are_safe(mariadb());
}

#[test]
fn an_id_typed_with_escapes_is_shown_escaped() {
    let mut a = vec![
        "explain".to_string(),
        "aggregate".into(),
        "no\x1b[2Jsuch\x07".into(),
    ];
    a.extend(v1_topology(sqlite()));
    let r = run(a, "100");
    assert_safe("stdout", &r.stdout);
    assert_safe("stderr", &r.stderr);
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("no\\x1b[2Jsuch\\x07"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// Headless Chromium renders the HTML report of the hostile deployment: the grid has one cell per
/// check × cell, and no markup from the data became an element.
#[test]
fn html_report_renders_in_headless_chromium_with_hostile_data_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let mut a = audit_args(sqlite());
    a.extend([
        "--format".into(),
        "html".into(),
        "-o".into(),
        page.display().to_string(),
    ]);
    let r = run(a, "80");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let html = std::fs::read_to_string(&page).unwrap();
    assert_safe("html", &html);
    assert!(!html.contains("<b id=\"pwn\">") && !html.contains("<i id=\"pwn2\">"));
    assert!(!html.contains("<script") && !html.contains("src=\"http"));

    let (_, doc) = common::json_run(audit_args(sqlite()));
    let checks: std::collections::BTreeSet<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    let expected_cells = checks.len() * CELLS.len();

    let Some(chromium) = common::chromium() else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<h1>cellaudit report</h1>"),
        "chromium rendered nothing ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        dom.matches("<td class=\"g ").count(),
        expected_cells,
        "grid cells"
    );
    // Markup from the data is text in the rendered page, never an element or an attribute.
    assert!(!dom.contains("<b id=\"pwn\">"), "injected element in {dom}");
    assert!(!dom.contains("<i id=\"pwn2\">"), "injected element");
    assert!(dom.contains("&lt;b id=\"pwn\"&gt;&amp;'x"), "{dom}");
    assert!(dom.contains("\\x1b[2J\\x1b]0;pwned\\x07\\r\\x08\\x00"));
    assert!(dom.contains("id=\"verdict\">FAILURE<"));
}
