//! `--format prometheus` and `--output`: the metrics file is parsed back with a strict reader of the
//! text exposition format and its values checked against the fixture audit, on SQLite and MariaDB.

mod common;

use common::{MariaDb, cellaudit, root};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
/// The checks the golden findings file covers.
const GOLDEN_CHECKS: &str =
    "cell_registry,aggregates,aggregate_metadata,aggregate_hosts,availability_zones";

fn sqlite_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<(tempfile::TempDir, Vec<(String, String)>)> = OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cells = CELLS
            .iter()
            .map(|c| {
                let url = common::sqlite_cell(dir.path(), c, &common::v1_fixtures(c, &[""]));
                (c.to_string(), url)
            })
            .collect();
        (dir, cells)
    })
    .1
}

fn mariadb_deployment() -> Vec<(String, String)> {
    let server = MariaDb::shared();
    CELLS
        .iter()
        .map(|c| {
            let url =
                common::mariadb_cell(server, &format!("prom_{c}"), &common::v1_fixtures(c, &[""]));
            (c.to_string(), url)
        })
        .collect()
}

fn audit_args(cells: &[(String, String)]) -> Vec<String> {
    let mut args = common::v1_audit_args(cells);
    args.extend(["--check".into(), GOLDEN_CHECKS.into()]);
    args
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One parsed exposition: family name -> (type, help, samples as label map -> value).
#[derive(Debug, Default)]
struct Exposition {
    families: BTreeMap<String, Family>,
}

#[derive(Debug, Default)]
struct Family {
    kind: String,
    help: String,
    samples: BTreeMap<BTreeMap<String, String>, f64>,
}

fn valid_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Reads a label set `{a="x",b="y\"z"}`, undoing the format's escapes; panics on anything else.
fn parse_labels(s: &str, line: &str) -> (BTreeMap<String, String>, usize) {
    let mut labels = BTreeMap::new();
    let b: Vec<char> = s.chars().collect();
    assert_eq!(b[0], '{', "{line}");
    let mut i = 1;
    loop {
        if b[i] == '}' {
            return (labels, i + 1);
        }
        let start = i;
        while b[i] != '=' {
            i += 1;
        }
        let name: String = b[start..i].iter().collect();
        assert!(valid_name(&name, false), "label name {name:?} in {line}");
        assert_eq!(b[i + 1], '"', "{line}");
        i += 2;
        let mut value = String::new();
        loop {
            match b[i] {
                '\\' => {
                    value.push(match b[i + 1] {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        other => panic!("bad escape \\{other} in {line}"),
                    });
                    i += 2;
                }
                '"' => {
                    i += 1;
                    break;
                }
                '\n' => panic!("raw newline in label value: {line}"),
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        assert!(
            labels.insert(name.clone(), value).is_none(),
            "label {name} twice in {line}"
        );
        match b[i] {
            ',' => i += 1,
            '}' => {}
            other => panic!("unexpected {other:?} after a label value in {line}"),
        }
    }
}

/// A strict reader of what cellaudit must write: every family has HELP then TYPE before its
/// samples, families are contiguous, no series repeats, no timestamps (the textfile collector
/// rejects them), and the text ends with a newline.
fn parse(text: &str) -> Exposition {
    assert!(text.ends_with('\n'), "exposition must end with a newline");
    let mut exp = Exposition::default();
    let mut current: Option<String> = None;
    let mut closed: BTreeSet<String> = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(valid_name(name, true), "{line}");
            assert!(
                !exp.families.contains_key(name),
                "family {name} declared twice"
            );
            if let Some(prev) = current.replace(name.to_string()) {
                closed.insert(prev);
            }
            exp.families.insert(
                name.into(),
                Family {
                    help: help.replace("\\n", "\n").replace("\\\\", "\\"),
                    ..Default::default()
                },
            );
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(
                Some(name),
                current.as_deref(),
                "TYPE right after HELP: {line}"
            );
            let fam = exp.families.get_mut(name).unwrap();
            assert!(fam.kind.is_empty() && fam.samples.is_empty(), "{line}");
            assert!(
                ["gauge", "counter", "untyped", "summary", "histogram"].contains(&kind),
                "{line}"
            );
            fam.kind = kind.into();
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line}");
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            assert_eq!(
                Some(name),
                current.as_deref(),
                "sample outside its family: {line}"
            );
            assert!(!closed.contains(name));
            let (labels, used) = if line[name_end..].starts_with('{') {
                parse_labels(&line[name_end..], line)
            } else {
                (BTreeMap::new(), 0)
            };
            let rest = &line[name_end + used..];
            let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{line}"));
            assert!(!value.contains(' '), "no timestamps allowed: {line}");
            let v: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            let fam = exp.families.get_mut(name).unwrap();
            assert_eq!(fam.kind, "gauge", "{line}");
            assert!(
                fam.samples.insert(labels, v).is_none(),
                "series repeated: {line}"
            );
        }
    }
    exp
}

impl Exposition {
    fn scalar(&self, name: &str) -> f64 {
        let f = &self.families[name];
        assert_eq!(f.samples.len(), 1, "{name}");
        f.samples[&BTreeMap::new()]
    }

    fn series(&self, name: &str) -> BTreeMap<Vec<(String, String)>, f64> {
        self.families[name]
            .samples
            .iter()
            .map(|(l, v)| (l.clone().into_iter().collect(), *v))
            .collect()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

/// The finding groups the golden file expects, as metric label sets.
fn golden_groups() -> BTreeMap<Vec<(String, String)>, f64> {
    let text = std::fs::read_to_string(root().join("fixtures/v1/expected-findings.json")).unwrap();
    let golden: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for f in golden {
        let key = labels(&[
            ("check", f["check"].as_str().unwrap()),
            ("kind", f["kind"].as_str().unwrap()),
            ("severity", f["severity"].as_str().unwrap()),
            ("cell", f["cell"].as_str().unwrap()),
        ]);
        *out.entry(key).or_insert(0.0) += 1.0;
    }
    out
}

fn check_fixture_metrics(cells: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cellaudit.prom");
    let mut args = audit_args(cells);
    args.extend([
        "--format".into(),
        "prometheus".into(),
        "--output".into(),
        file.display().to_string(),
    ]);
    let before = now().floor();
    let run = cellaudit(&args);
    let after = now().ceil();
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "--output leaves stdout empty");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("MQ-SECRET"), "broker credentials leaked");
    let exp = parse(&text);
    for (name, fam) in &exp.families {
        assert!(name.starts_with("cellaudit_"), "{name}");
        assert!(!fam.help.is_empty(), "{name} has no help");
    }

    assert_eq!(exp.series("cellaudit_findings"), golden_groups());
    let golden = golden_groups();
    let by_sev = |sev: &str| {
        golden
            .iter()
            .filter(|(k, _)| k.contains(&("severity".to_string(), sev.to_string())))
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let totals = exp.series("cellaudit_findings_by_severity");
    assert_eq!(totals.len(), 3);
    for sev in ["failure", "warning", "info"] {
        assert_eq!(totals[&labels(&[("severity", sev)])], by_sev(sev), "{sev}");
    }
    assert_eq!(
        exp.series("cellaudit_cell_reachable"),
        [
            ("api", "parent"),
            ("child1", "child"),
            ("child2", "child"),
            ("child3", "child"),
        ]
        .iter()
        .map(|(c, r)| (labels(&[("cell", c), ("role", r)]), 1.0))
        .collect()
    );
    assert_eq!(exp.scalar("cellaudit_audit_success"), 1.0);
    assert_eq!(exp.scalar("cellaudit_exit_code"), 2.0);
    assert_eq!(exp.scalar("cellaudit_checks_skipped"), 0.0);
    let skipped = exp.series("cellaudit_check_skipped");
    let want: BTreeSet<Vec<(String, String)>> = GOLDEN_CHECKS
        .split(',')
        .flat_map(|check| {
            CELLS
                .iter()
                .map(move |cell| labels(&[("check", check), ("cell", cell)]))
        })
        .collect();
    assert_eq!(skipped.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert!(skipped.values().all(|v| *v == 0.0));
    let duration = exp.scalar("cellaudit_audit_duration_seconds");
    assert!(
        duration > 0.0 && duration < after - before + 1.0,
        "{duration}"
    );
    let last = exp.scalar("cellaudit_last_success_timestamp_seconds");
    assert!(
        before <= last && last <= after,
        "{before} <= {last} <= {after}"
    );
    assert_eq!(exp.scalar("cellaudit_last_run_timestamp_seconds"), last);
    assert_eq!(
        exp.series("cellaudit_info"),
        [(
            labels(&[
                ("version", env!("CARGO_PKG_VERSION")),
                ("topology", "cells-v1")
            ]),
            1.0
        )]
        .into_iter()
        .collect()
    );
}

#[test]
fn sqlite_metrics_match_the_golden_findings() {
    check_fixture_metrics(sqlite_deployment());
}

#[test]
fn mariadb_metrics_match_the_golden_findings() {
    check_fixture_metrics(&mariadb_deployment());
}

#[test]
fn stdout_metrics_equal_the_json_report_of_the_same_audit() {
    let cells = sqlite_deployment();
    let mut args = audit_args(cells);
    args.extend(["--format".into(), "json".into()]);
    let doc: Value = serde_json::from_str(&cellaudit(&args).stdout).unwrap();
    let n = args.len();
    args[n - 1] = "prometheus".into();
    let exp = parse(&cellaudit(&args).stdout);
    let mut groups = BTreeMap::new();
    for f in doc["findings"].as_array().unwrap() {
        let key = labels(&[
            ("check", f["check"].as_str().unwrap()),
            ("kind", f["kind"].as_str().unwrap()),
            ("severity", f["severity"].as_str().unwrap()),
            ("cell", f["cell"].as_str().unwrap()),
        ]);
        *groups.entry(key).or_insert(0.0) += 1.0;
    }
    assert_eq!(exp.series("cellaudit_findings"), groups);
    assert!(doc["duration_seconds"].as_f64().unwrap() > 0.0);
    assert!(doc["finished_at"].as_i64().unwrap() > 1_700_000_000);
}

#[test]
fn an_unreachable_child_is_reported_as_down() {
    let cells = sqlite_deployment();
    let mut cells: Vec<(String, String)> = cells.clone();
    cells[3].1 = "sqlite:///nonexistent/cellaudit/child3.sqlite".into();
    let mut args = audit_args(&cells);
    args.extend(["--format".into(), "prometheus".into()]);
    let run = cellaudit(&args);
    assert_eq!(run.code, 2);
    let exp = parse(&run.stdout);
    let reach = exp.series("cellaudit_cell_reachable");
    assert_eq!(
        reach[&labels(&[("cell", "child3"), ("role", "child")])],
        0.0
    );
    assert_eq!(
        reach[&labels(&[("cell", "child1"), ("role", "child")])],
        1.0
    );
    let findings = exp.series("cellaudit_findings");
    assert_eq!(
        findings[&labels(&[
            ("check", "connectivity"),
            ("kind", "cell_unreachable"),
            ("severity", "failure"),
            ("cell", "child3")
        ])],
        1.0
    );
}

#[test]
fn an_aborted_audit_keeps_the_previous_success_time_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cellaudit.prom");
    let out = |cells: &[(String, String)]| {
        let mut args = audit_args(cells);
        args.extend([
            "--format".into(),
            "prometheus".into(),
            "-o".into(),
            file.display().to_string(),
        ]);
        cellaudit(&args)
    };
    assert_eq!(out(sqlite_deployment()).code, 2);
    let first = parse(&std::fs::read_to_string(&file).unwrap());
    let success = first.scalar("cellaudit_last_success_timestamp_seconds");

    let mut broken = sqlite_deployment().clone();
    broken[0].1 = "sqlite:///nonexistent/cellaudit/api.sqlite".into();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = out(&broken);
    assert_eq!(run.code, 255);
    assert!(
        run.stderr.contains("the parent could not be read"),
        "the reason goes to stderr when the report goes to a file: {}",
        run.stderr
    );
    let second = parse(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(second.scalar("cellaudit_audit_success"), 0.0);
    assert_eq!(second.scalar("cellaudit_exit_code"), 255.0);
    assert_eq!(
        second.scalar("cellaudit_last_success_timestamp_seconds"),
        success
    );
    assert!(second.scalar("cellaudit_last_run_timestamp_seconds") > success);
    assert_eq!(
        second.series("cellaudit_cell_reachable")[&labels(&[("cell", "api"), ("role", "parent")])],
        0.0
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("cellaudit.prom")]);
}

#[test]
fn output_file_works_for_every_format_and_a_bad_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json", "prometheus"] {
        let file = dir.path().join(format!("report.{format}"));
        let mut args = audit_args(sqlite_deployment());
        args.extend([
            "--format".into(),
            format.into(),
            "--output".into(),
            file.display().to_string(),
        ]);
        let run = cellaudit(&args);
        assert_eq!(run.code, 2, "{format}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.len() > 100, "{format}: {text}");
    }
    let mut args = audit_args(sqlite_deployment());
    let missing: &Path = &dir.path().join("no/such/dir/x.prom");
    args.extend(["--output".into(), missing.display().to_string()]);
    let run = cellaudit(&args);
    assert_eq!(run.code, 255);
    assert!(
        run.stderr.contains("cannot create a temporary file"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_to_dev_stdout_a_symlink_and_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    // /dev/stdout is written through: the report arrives on the pipe the test reads.
    let mut args = audit_args(sqlite_deployment());
    args.extend([
        "--format".into(),
        "prometheus".into(),
        "-o".into(),
        "/dev/stdout".into(),
    ]);
    let run = cellaudit(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.contains("cellaudit_audit_success 1"),
        "{}",
        run.stdout
    );
    // A symlink stays a symlink; the file it points at gets the report, in its own directory.
    let real = dir.path().join("real.prom");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink("real.prom", &link).unwrap();
    let mut args = audit_args(sqlite_deployment());
    args.extend([
        "--format".into(),
        "prometheus".into(),
        "-o".into(),
        link.display().to_string(),
    ]);
    assert_eq!(cellaudit(&args).code, 2);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("cellaudit_audit_success 1")
    );
    // A directory is refused in one line before anything is audited.
    let mut args = audit_args(sqlite_deployment());
    args.extend(["-o".into(), dir.path().display().to_string()]);
    let run = cellaudit(&args);
    assert_eq!(run.code, 255);
    assert_eq!(
        run.stderr,
        format!(
            "cellaudit: --output {} is a directory; give a file name\n",
            dir.path().display()
        )
    );
    assert_eq!(run.stdout, "");
}
