//! The instances check end to end: the fixture's inconsistencies and look-alikes on MariaDB and SQLite, the lag rule,
//! older schemas, a collation that disagrees with the merge's order, and a seeded randomized deployment against a naive model;
//! each in both `--instances-mode`s (stream and hash), which must report identical findings.

mod common;

use assert_cmd::Command;
use common::MariaDb;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
/// The fixture clock (see fixtures/v1/README-instances.md).
const AS_OF: &str = "2019-10-01 12:00:00";
/// The instances check's two ways of reading rows, as extra audit flags.
const MODES: [&[&str]; 2] = [
    &["--instances-mode", "stream"],
    &["--instances-mode", "hash"],
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures(cell: &str) -> Vec<PathBuf> {
    let file = if cell == "api" { "parent" } else { cell };
    vec![
        root().join(format!("fixtures/v1/{file}.sql")),
        root().join(format!("fixtures/v1/instances-{file}.sql")),
    ]
}

fn mariadb_cell(server: &MariaDb, cell: &str, files: &[PathBuf]) -> String {
    let url = server.create_database(cell);
    server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
    for f in files {
        server.load_sql_file(&url, f);
    }
    url
}

fn mariadb_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<Vec<(String, String)>> = OnceLock::new();
    D.get_or_init(|| {
        let server = MariaDb::shared();
        CELLS
            .iter()
            .map(|c| (c.to_string(), mariadb_cell(server, c, &fixtures(c))))
            .collect()
    })
}

fn sqlite_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<(tempfile::TempDir, Vec<(String, String)>)> = OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let schema = root().join("fixtures/schema/main.sqlite.sql");
        let cells = CELLS
            .iter()
            .map(|c| {
                let mut files = vec![schema.clone()];
                files.extend(fixtures(c));
                let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
                (
                    c.to_string(),
                    common::sqlite_db(dir.path(), &format!("{c}.sqlite"), &paths),
                )
            })
            .collect();
        (dir, cells)
    })
    .1
}

/// Runs `cellaudit audit --check instances --format json` over the cells plus `extra` flags.
fn audit(cells: &[(String, String)], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec!["audit".into()];
    for (name, url) in cells {
        if name == "api" {
            args.extend([
                "--parent".into(),
                url.clone(),
                "--parent-name".into(),
                "api".into(),
            ]);
        } else {
            args.extend(["--child".into(), format!("{name}={url}")]);
        }
    }
    args.extend(
        ["--check", "instances", "--format", "json"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(&args)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// (cell, severity, kind, instance uuid) of every finding, in report order.
fn essentials(doc: &Value) -> Vec<(String, String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["cell"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["key"]["instance"]
                    .as_str()
                    .or(f["key"]["cell"].as_str())
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

fn uuid(n: u32) -> String {
    format!("e1000000-0000-4000-8000-0000000000{n:02}")
}

fn row(cell: &str, sev: &str, kind: &str, n: u32) -> (String, String, String, String) {
    (cell.into(), sev.into(), kind.into(), uuid(n))
}

/// The findings the fixture must produce at the fixture clock with the default --lag, and nothing else.
fn expected() -> Vec<(String, String, String, String)> {
    vec![
        row("api", "failure", "instance_in_multiple_cells", 17),
        row("api", "warning", "instance_ghost_at_top", 4),
        row("api", "info", "instance_lagging", 13),
        row("child1", "failure", "instance_missing_at_top", 3),
        row("child1", "failure", "instance_wrong_cell", 5),
        row("child1", "warning", "instance_drift", 10),
        row("child2", "failure", "instance_deleted_at_top", 8),
        row("child2", "failure", "instance_unknown_cell", 6),
        row("child2", "warning", "instance_drift", 11),
        row("child3", "failure", "instance_cell_name_missing", 7),
        row("child3", "warning", "instance_deleted_in_child", 9),
        row("child3", "info", "instance_lagging", 12),
    ]
}

fn finding<'a>(doc: &'a Value, kind: &str, n: u32) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["key"]["instance"] == uuid(n).as_str())
        .unwrap_or_else(|| panic!("no {kind} finding for instance {n}"))
}

fn outcomes(doc: &Value) -> Vec<(String, String)> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "instances")
        .map(|c| {
            (
                c["cell"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_fixture(cells: &[(String, String)], mode: &[&str]) -> Value {
    let (code, doc) = audit(cells, &[&["--as-of", AS_OF], mode].concat());
    assert_eq!(essentials(&doc), expected(), "{mode:?}");
    assert_eq!(code, 2);
    for c in CELLS {
        assert!(
            outcomes(&doc).contains(&(c.to_string(), "ran".to_string())),
            "{c}: {:?}",
            outcomes(&doc)
        );
    }
    // Findings name the instance, and drift carries both sides of the columns that differ only.
    let drift = finding(&doc, "instance_drift", 10);
    assert!(drift["message"].as_str().unwrap().contains("'drift-state'"));
    assert_eq!(
        drift["parent"],
        serde_json::json!({"vm_state": "active", "power_state": 1, "instance_type_id": 2})
    );
    assert_eq!(
        drift["child"],
        serde_json::json!({"vm_state": "stopped", "power_state": 4, "instance_type_id": 3})
    );
    let nulls = finding(&doc, "instance_drift", 11);
    assert_eq!(
        nulls["parent"],
        serde_json::json!({"task_state": null, "availability_zone": null})
    );
    let wrong = finding(&doc, "instance_wrong_cell", 5);
    assert_eq!(wrong["parent"], "api!child2");
    assert!(
        finding(&doc, "instance_lagging", 12)["message"]
            .as_str()
            .unwrap()
            .contains("changed 600s ago")
    );
    doc
}

/// The fixture's exact findings in both modes, and the two modes' findings identical in every field.
fn assert_fixture_both_modes(cells: &[(String, String)]) {
    let stream = assert_fixture(cells, MODES[0]);
    let hash = assert_fixture(cells, MODES[1]);
    assert_eq!(stream["findings"], hash["findings"]);
    assert_eq!(stream["checks"], hash["checks"]);
}

#[test]
fn mariadb_instance_findings_are_exact() {
    assert_fixture_both_modes(mariadb_deployment());
}

#[test]
fn sqlite_instance_findings_are_exact() {
    assert_fixture_both_modes(sqlite_deployment());
}

/// A MariaDB parent over SQLite children: in hash mode the server's MD5 and the program's must agree.
#[test]
fn mixed_databases_hash_the_compared_columns_alike() {
    let mut cells = vec![mariadb_deployment()[0].clone()];
    cells.extend(sqlite_deployment()[1..].iter().cloned());
    assert_fixture_both_modes(&cells);
}

/// NULL, '' and 'n', and values shifted across a column boundary, are differences in both modes.
#[test]
fn null_empty_and_shifted_values_are_drift_in_hash_mode() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    // (uuid suffix, parent host, parent node, child host, child node); the last pair agrees.
    let pairs = [
        (1, "NULL", "'x'", "''", "'x'"),
        (2, "'n'", "'x'", "NULL", "'x'"),
        (3, "'a,b'", "'c'", "'a'", "'b,c'"),
        (4, "'a'", "'bc'", "'ab'", "'c'"),
        (5, "'h'", "NULL", "'h'", "NULL"),
    ];
    let sql = |top: bool| -> String {
        let rows: Vec<String> = pairs
            .iter()
            .map(|(n, ph, pn, ch, cn)| {
                let (h, nd, cell) = if top {
                    (ph, pn, "'api!child1'")
                } else {
                    (ch, cn, "NULL")
                };
                format!(
                    "('{}', 'vm', {h}, {nd}, {cell}, 0, '2019-01-01 00:00:00')",
                    uuid(*n)
                )
            })
            .collect();
        format!(
            "INSERT INTO instances (uuid, display_name, host, node, cell_name, deleted, updated_at) VALUES {};\n",
            rows.join(", ")
        )
    };
    let want: Vec<_> = (1..=4)
        .map(|n| row("child1", "warning", "instance_drift", n))
        .collect();
    for kind in ["mariadb", "sqlite"] {
        let mut cells = Vec::new();
        for (name, top) in [("api", true), ("child1", false)] {
            let url = if kind == "mariadb" {
                let url = server.create_database(name);
                server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
                server.exec(&url, &sql(top));
                url
            } else {
                let file = dir.path().join(format!("{name}.sql"));
                std::fs::write(&file, sql(top)).unwrap();
                let schema = root().join("fixtures/schema/main.sqlite.sql");
                common::sqlite_db(
                    dir.path(),
                    &format!("{name}.sqlite"),
                    &[schema.as_path(), file.as_path()],
                )
            };
            cells.push((name.to_string(), url));
        }
        for mode in MODES {
            let (_, doc) = audit(&cells, &[&["--as-of", AS_OF], mode].concat());
            assert_eq!(essentials(&doc), want, "{kind} {mode:?}");
        }
    }
}

#[test]
fn an_unknown_instances_mode_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cellaudit.toml");
    std::fs::write(
        &conf,
        format!(
            "instances_mode = \"sorted\"\n[parent]\nurl = \"{}\"\n[[child]]\nname = \"child1\"\nurl = \"{}\"\n",
            sqlite_deployment()[0].1,
            sqlite_deployment()[1].1
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(["audit", "--config", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("instances_mode must be one of auto, stream, hash, not 'sorted'"),
        "{err}"
    );
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(["audit", "--instances-mode", "sorted"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn past_the_lag_lagging_rows_are_drift_and_ghosts() {
    let mut want = expected();
    want.retain(|f| f.2 != "instance_lagging");
    want.insert(1, row("api", "warning", "instance_ghost_at_top", 13));
    want.push(row("child3", "warning", "instance_drift", 12));
    want.sort_by_key(|f| {
        let sev = match f.1.as_str() {
            "failure" => 0,
            "warning" => 1,
            _ => 2,
        };
        (
            CELLS.iter().position(|c| *c == f.0),
            sev,
            f.2.clone(),
            f.3.clone(),
        )
    });
    for cells in [mariadb_deployment(), sqlite_deployment()] {
        for mode in MODES {
            let (_, doc) = audit(cells, &[&["--as-of", AS_OF, "--lag", "0"], mode].concat());
            assert_eq!(essentials(&doc), want, "{mode:?}");
            // A day later, the default lag no longer covers them either.
            let (_, doc) = audit(cells, &[&["--as-of", "2019-10-02 12:00:00"], mode].concat());
            assert_eq!(essentials(&doc), want, "{mode:?}");
        }
    }
}

#[test]
fn a_child_without_a_compared_column_is_skipped_and_its_instances_are_not_called_ghosts() {
    let server = MariaDb::shared();
    let cells: Vec<(String, String)> = CELLS
        .iter()
        .map(|c| (c.to_string(), mariadb_cell(server, c, &fixtures(c))))
        .collect();
    server.exec(&cells[3].1, "ALTER TABLE instances DROP COLUMN node");
    for mode in MODES {
        let (_, doc) = audit(&cells, &[&["--as-of", AS_OF], mode].concat());
        let skipped = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "instances" && c["cell"] == "child3")
            .unwrap();
        assert_eq!(skipped["status"], "skipped");
        assert_eq!(skipped["reason"], "column `instances.node` is missing");
        let mut want = expected();
        // child3's own findings go; the parent's copies naming child3 (07, 09, 12) are not ghosts.
        want.retain(|f| f.0 != "child3");
        assert_eq!(essentials(&doc), want, "{mode:?}");
    }
}

#[test]
fn a_collation_that_disagrees_with_the_merge_order_is_an_error_for_that_cell() {
    let server = MariaDb::shared();
    let cells: Vec<(String, String)> = CELLS
        .iter()
        .map(|c| (c.to_string(), mariadb_cell(server, c, &fixtures(c))))
        .collect();
    // utf8mb3_general_ci sorts 'Z' (0x5A) before '_' (0x5F); the merge folds to lower case, where '_' < 'z'.
    server.exec(
        &cells[2].1,
        "INSERT INTO instances (uuid, display_name, deleted) VALUES
         ('ffffffff-aaaa-4000-8000-Z00000000000', 'zed', 0),
         ('ffffffff-aaaa-4000-8000-_00000000000', 'underscore', 0)",
    );
    // Stream mode's merge needs key order (auto mode would hash these small cells).
    let (code, doc) = audit(&cells, &["--as-of", AS_OF, "--instances-mode", "stream"]);
    assert_eq!(code, 2);
    let child2 = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "instances" && c["cell"] == "child2")
        .unwrap();
    assert_eq!(child2["status"], "skipped");
    let reason = child2["reason"].as_str().unwrap();
    assert!(reason.contains("not in key order"), "{reason}");
    let mut want = expected();
    want.retain(|f| f.0 != "child2");
    want.insert(
        6,
        (
            "child2".into(),
            "failure".into(),
            "instances_unreadable".into(),
            "child2".into(),
        ),
    );
    assert_eq!(essentials(&doc), want);
}

/// xorshift64*: a seeded generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One side's copy of a random instance.
#[derive(Clone)]
struct Inst {
    uuid: String,
    host: Option<String>,
    vm_state: Option<String>,
    power_state: Option<i64>,
}

fn sql_text(v: &Option<String>) -> String {
    v.as_ref().map_or("NULL".into(), |s| format!("'{s}'"))
}

fn insert(rows: &[(Inst, Option<&str>)]) -> String {
    let mut sql = String::new();
    for chunk in rows.chunks(500) {
        sql.push_str("INSERT INTO instances (uuid, display_name, host, vm_state, power_state, cell_name, deleted, updated_at) VALUES\n");
        let vals: Vec<String> = chunk
            .iter()
            .map(|(i, cell)| {
                format!(
                    "('{}', 'vm', {}, {}, {}, {}, 0, '2019-01-01 00:00:00')",
                    i.uuid,
                    sql_text(&i.host),
                    sql_text(&i.vm_state),
                    i.power_state.map_or("NULL".into(), |p| p.to_string()),
                    cell.map_or("NULL".to_string(), |c| format!("'api!{c}'"))
                )
            })
            .collect();
        sql.push_str(&vals.join(",\n"));
        sql.push_str(";\n");
    }
    sql
}

/// A random parent and two children in which every uuid is spelt in random case, compared
/// against a model computed directly from the generated sets.
#[test]
fn randomized_deployments_report_exactly_the_generated_differences() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    for seed in [7u64, 1_000_003] {
        let mut rng = Rng(seed);
        let pick = |rng: &mut Rng, opts: &[&str]| -> Option<String> {
            let i = rng.below(opts.len() as u64 + 1) as usize;
            opts.get(i).map(|s| s.to_string())
        };
        let mut parent: Vec<(Inst, Option<&str>)> = Vec::new();
        let mut kids: BTreeMap<&str, Vec<(Inst, Option<&str>)>> = BTreeMap::new();
        let mut want: Vec<(String, String, String, String)> = Vec::new();
        for n in 0..1500u64 {
            let hex: String = format!("{:016x}{:016x}", rng.next(), n);
            let mut u: String = format!(
                "{}-{}-4{}-8{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[13..16],
                &hex[17..20],
                &hex[20..32]
            );
            if rng.chance(30) {
                u = u
                    .chars()
                    .map(|c| {
                        if rng.chance(50) {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect();
            }
            let child = if rng.chance(50) { "child1" } else { "child2" };
            let inst = Inst {
                uuid: u.clone(),
                host: pick(&mut rng, &["h1", "h2"]),
                vm_state: pick(&mut rng, &["active", "stopped"]),
                power_state: if rng.chance(20) {
                    None
                } else {
                    Some(rng.below(2) as i64)
                },
            };
            let key = u.to_ascii_lowercase();
            match rng.below(10) {
                0 => {
                    kids.entry(child).or_default().push((inst, None));
                    want.push((
                        child.into(),
                        "failure".into(),
                        "instance_missing_at_top".into(),
                        key,
                    ));
                }
                1 => {
                    parent.push((inst, Some(child)));
                    want.push((
                        "api".into(),
                        "warning".into(),
                        "instance_ghost_at_top".into(),
                        key,
                    ));
                }
                2 => {
                    let mut top = inst.clone();
                    // Change one column, sometimes to or from NULL; spell the uuid differently at the top.
                    match rng.below(3) {
                        0 => {
                            top.host = if top.host.is_some() {
                                None
                            } else {
                                Some("h9".into())
                            }
                        }
                        1 => top.vm_state = Some("error".into()),
                        _ => top.power_state = top.power_state.map_or(Some(7), |_| None),
                    }
                    top.uuid = top.uuid.to_ascii_uppercase();
                    parent.push((top, Some(child)));
                    kids.entry(child).or_default().push((inst, None));
                    want.push((child.into(), "warning".into(), "instance_drift".into(), key));
                }
                _ => {
                    let mut top = inst.clone();
                    if rng.chance(50) {
                        top.uuid = top.uuid.to_ascii_lowercase();
                    }
                    parent.push((top, Some(child)));
                    kids.entry(child).or_default().push((inst, None));
                }
            }
        }
        // The report's order: cell, severity (worst first), kind, then the key as reported.
        let sev = |s: &str| match s {
            "failure" => 0,
            "warning" => 1,
            _ => 2,
        };
        for cells_kind in ["mariadb", "sqlite"] {
            let mut cells = Vec::new();
            for (name, rows) in
                std::iter::once(("api", &parent)).chain(kids.iter().map(|(k, v)| (*k, v)))
            {
                let sql = insert(rows);
                let url = if cells_kind == "mariadb" {
                    let url = server.create_database(name);
                    server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
                    server.exec(&url, &sql);
                    url
                } else {
                    let file = dir.path().join(format!("{name}-{seed}.sql"));
                    std::fs::write(&file, &sql).unwrap();
                    let schema = root().join("fixtures/schema/main.sqlite.sql");
                    common::sqlite_db(
                        dir.path(),
                        &format!("{name}-{seed}.sqlite"),
                        &[schema.as_path(), file.as_path()],
                    )
                };
                cells.push((name.to_string(), url));
            }
            let mut findings = Vec::new();
            for mode in MODES {
                let (_, doc) = audit(&cells, &[&["--as-of", AS_OF], mode].concat());
                let mut got = essentials(&doc);
                for g in &mut got {
                    g.3 = g.3.to_ascii_lowercase();
                }
                got.sort_by_key(|f| (f.0.clone(), sev(&f.1), f.2.clone(), f.3.clone()));
                let mut w = want.clone();
                w.sort_by_key(|f| (f.0.clone(), sev(&f.1), f.2.clone(), f.3.clone()));
                assert_eq!(got.len(), w.len(), "seed {seed} on {cells_kind} {mode:?}");
                assert_eq!(got, w, "seed {seed} on {cells_kind} {mode:?}");
                findings.push(doc["findings"].clone());
            }
            assert_eq!(findings[0], findings[1], "seed {seed} on {cells_kind}");
        }
    }
}

#[test]
fn checks_lists_instances() {
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .arg("checks")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("instances ")), "{text}");
}
