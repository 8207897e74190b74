//! End-to-end tests of the `hosts` and `flavors` checks on the cells v1 fixtures, in a private MariaDB and in SQLite.

mod common;

use assert_cmd::Command;
use common::MariaDb;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
const CHECKS: &str = "hosts,flavors";

/// A cell's fixture files in load order: the base rows, then this flavors and hosts.
fn fixtures(cell: &str) -> Vec<PathBuf> {
    common::v1_fixtures(cell, &["", "flavors-", "hosts-"])
}

/// Builds the deployment on `server`, running `tweak` SQL in a cell after its fixtures.
fn mariadb_cells(server: &MariaDb, tweak: &[(&str, &str)]) -> Vec<(String, String)> {
    CELLS
        .iter()
        .map(|cell| {
            let url = common::mariadb_cell(server, &cell.replace('-', "_"), &fixtures(cell));
            for (c, sql) in tweak {
                if c == cell {
                    server.exec(&url, sql);
                }
            }
            (cell.to_string(), url)
        })
        .collect()
}

fn mariadb_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<Vec<(String, String)>> = OnceLock::new();
    D.get_or_init(|| mariadb_cells(MariaDb::shared(), &[]))
}

fn sqlite_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<(tempfile::TempDir, Vec<(String, String)>)> = OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cells = CELLS
            .iter()
            .map(|c| {
                (
                    c.to_string(),
                    common::sqlite_cell(dir.path(), c, &fixtures(c)),
                )
            })
            .collect();
        (dir, cells)
    })
    .1
}

fn audit(cells: &[(String, String)], extra: &[&str]) -> (i32, Value) {
    let mut args = common::v1_audit_args(cells);
    args.extend(["--check", CHECKS, "--format", "json"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = common::cellaudit(&args);
    let doc = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    (run.code, doc)
}

/// (cell, check, kind, severity, key) of each finding, in report order.
fn essentials(doc: &Value) -> Vec<(String, String, String, String, Value)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (
                s("cell"),
                s("check"),
                s("kind"),
                s("severity"),
                f["key"].clone(),
            )
        })
        .collect()
}

fn expected(ignore_access: bool) -> Vec<(String, String, String, String, Value)> {
    let all = [
        (
            "api",
            "hosts",
            "compute_in_parent",
            "warning",
            json!({"host": "api-01"}),
        ),
        (
            "api",
            "hosts",
            "instance_host_in_no_child",
            "warning",
            json!({"cell_name": "api!child2", "host": "ghost-host"}),
        ),
        (
            "api",
            "hosts",
            "instance_host_in_other_cell",
            "warning",
            json!({"cell_name": "api!child1", "host": "cmp-11"}),
        ),
        (
            "child1",
            "flavors",
            "id_collision",
            "failure",
            json!({"flavor": "rogue"}),
        ),
        (
            "child1",
            "flavors",
            "missing_in_child",
            "failure",
            json!({"flavor": "x1-huge"}),
        ),
        (
            "child1",
            "hosts",
            "instance_host_not_in_cell",
            "failure",
            json!({"host": "cmp-11"}),
        ),
        (
            "child1",
            "flavors",
            "access_missing_in_child",
            "warning",
            json!({"flavor": "p1-secret", "project": "proj-a"}),
        ),
        (
            "child1",
            "flavors",
            "deleted_in_parent",
            "warning",
            json!({"flavor": "old"}),
        ),
        (
            "child1",
            "flavors",
            "only_in_child",
            "warning",
            json!({"flavor": "rogue"}),
        ),
        (
            "child1",
            "flavors",
            "spec_extra_in_child",
            "warning",
            json!({"flavor": "gpu-a100", "key": "HW:CPU_POLICY"}),
        ),
        (
            "child1",
            "flavors",
            "spec_missing_in_child",
            "warning",
            json!({"flavor": "gpu-a100", "key": "hw:cpu_policy"}),
        ),
        (
            "child1",
            "flavors",
            "value_differs",
            "warning",
            json!({"field": "is_public", "flavor": "p1-secret"}),
        ),
        (
            "child1",
            "hosts",
            "host_in_multiple_cells",
            "warning",
            json!({"host": "cmp-05"}),
        ),
        (
            "child2",
            "flavors",
            "value_differs",
            "failure",
            json!({"field": "memory_mb", "flavor": "3"}),
        ),
        (
            "child2",
            "hosts",
            "instance_host_not_in_cell",
            "failure",
            json!({"host": "ghost-host"}),
        ),
        (
            "child2",
            "flavors",
            "access_extra_in_child",
            "warning",
            json!({"flavor": "p1-secret", "project": "proj-z"}),
        ),
        (
            "child2",
            "flavors",
            "only_in_child",
            "warning",
            json!({"flavor": "local-1"}),
        ),
        (
            "child2",
            "flavors",
            "spec_value_differs",
            "warning",
            json!({"flavor": "gpu-a100", "key": "hw:cpu_policy"}),
        ),
        (
            "child2",
            "hosts",
            "host_in_multiple_cells",
            "warning",
            json!({"host": "cmp-05"}),
        ),
        (
            "child3",
            "flavors",
            "id_differs",
            "failure",
            json!({"flavor": "4"}),
        ),
        (
            "child3",
            "flavors",
            "missing_in_child",
            "failure",
            json!({"flavor": "gpu-a100"}),
        ),
    ];
    all.into_iter()
        .filter(|(_, _, kind, _, key)| {
            !(ignore_access
                && (kind.starts_with("access_") || key.get("field") == Some(&json!("is_public"))))
        })
        .map(|(c, ch, k, s, key)| (c.into(), ch.into(), k.into(), s.into(), key))
        .collect()
}

fn finding<'a>(doc: &'a Value, cell: &str, kind: &str, key: &Value) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cell"] == cell && f["kind"] == kind && &f["key"] == key)
        .unwrap_or_else(|| panic!("no {cell} {kind} {key}"))
}

/// The outcome of `check` in `cell`: "ran", "skipped" or "unavailable", with the reason if any.
fn outcome(doc: &Value, check: &str, cell: &str) -> (String, Option<String>) {
    let o = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["check"] == check && o["cell"] == cell)
        .unwrap_or_else(|| panic!("no outcome for {check} in {cell}"));
    (
        o["status"].as_str().unwrap().to_string(),
        o["reason"].as_str().map(str::to_string),
    )
}

fn assert_fixture_findings(cells: &[(String, String)]) {
    // Flavor access and is_public are compared only with --flavor-access (issue 11).
    let (code, doc) = audit(cells, &[]);
    assert_eq!(essentials(&doc), expected(true));
    assert_eq!(code, 2, "failures present, so exit code 2");
    for check in ["hosts", "flavors"] {
        for cell in CELLS {
            assert_eq!(
                outcome(&doc, check, cell),
                ("ran".into(), None),
                "{check} {cell}"
            );
        }
    }
    // One finding per host, with the count and the smallest uuid as the example.
    let orphans = finding(
        &doc,
        "child2",
        "instance_host_not_in_cell",
        &json!({"host": "ghost-host"}),
    );
    assert_eq!(
        orphans["message"],
        "child2 has 2 live instances (e.g. b0570000-0000-4000-8000-000000000006) on host 'ghost-host', which runs no live nova-compute in child2; it is a live nova-compute in no audited child"
    );
    let misplaced = finding(
        &doc,
        "api",
        "instance_host_in_other_cell",
        &json!({"cell_name": "api!child1", "host": "cmp-11"}),
    );
    assert_eq!(
        misplaced["message"],
        "the parent has 1 live instance (b0570000-0000-4000-8000-000000000005) with cell_name 'api!child1' on host 'cmp-11', but 'cmp-11' lives in child2, not child1"
    );
    let id = finding(&doc, "child3", "id_differs", &json!({"flavor": "4"}));
    assert_eq!((&id["parent"], &id["child"]), (&json!(4), &json!(14)));
    let collision = finding(&doc, "child1", "id_collision", &json!({"flavor": "rogue"}));
    assert_eq!(
        collision["message"],
        "flavor 'rogue' (flavorid rogue) in child1 has id 8, which is parent flavor 'x1-huge'"
    );
    let memory = finding(
        &doc,
        "child2",
        "value_differs",
        &json!({"field": "memory_mb", "flavor": "3"}),
    );
    assert_eq!(
        (&memory["parent"], &memory["child"]),
        (&json!(4096), &json!(8192))
    );
    let soft = finding(
        &doc,
        "child3",
        "missing_in_child",
        &json!({"flavor": "gpu-a100"}),
    );
    assert!(
        soft["message"]
            .as_str()
            .unwrap()
            .contains("is soft-deleted in child3"),
        "{soft}"
    );
}

#[test]
fn mariadb_hosts_and_flavors_findings_are_exact() {
    assert_fixture_findings(mariadb_deployment());
}

#[test]
fn sqlite_hosts_and_flavors_findings_are_exact() {
    assert_fixture_findings(sqlite_deployment());
}

#[test]
fn flavor_access_is_compared_only_when_asked_by_flag_or_config() {
    // Children look resize flavors up by flavorid with an admin context, so access rows and
    // is_public differ on purpose at many sites: not compared unless asked (issue 11).
    let (code, doc) = audit(mariadb_deployment(), &["--flavor-access"]);
    assert_eq!(essentials(&doc), expected(false));
    assert_eq!(code, 2);
    let (_, doc) = audit(mariadb_deployment(), &["--ignore-flavor-access"]);
    assert_eq!(essentials(&doc), expected(true), "the old flag still runs");

    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cellaudit.toml");
    std::fs::write(&conf, "flavor_access = true\n").unwrap();
    let (_, doc) = audit(sqlite_deployment(), &["--config", conf.to_str().unwrap()]);
    assert_eq!(essentials(&doc), expected(false));
}

#[test]
fn aggregate_hosts_leaves_hosts_in_two_children_to_the_hosts_check() {
    let mut args = common::v1_audit_args(sqlite_deployment());
    args.extend(["--format", "json"].map(String::from));
    let doc: Value = serde_json::from_str(&common::cellaudit(&args).stdout).unwrap();
    let multi: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "host_in_multiple_cells")
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["cell"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        multi,
        [
            ("hosts".to_string(), "child1".to_string()),
            ("hosts".into(), "child2".into())
        ]
    );
}

#[test]
fn older_schemas_skip_the_check_in_that_cell_with_the_reason() {
    let cells = mariadb_cells(
        MariaDb::shared(),
        &[
            (
                "child2",
                "ALTER TABLE instance_types DROP COLUMN vcpu_weight",
            ),
            ("child3", "ALTER TABLE instances DROP COLUMN cell_name"),
        ],
    );
    let (_, doc) = audit(&cells, &[]);
    assert_eq!(
        outcome(&doc, "flavors", "child2"),
        (
            "skipped".into(),
            Some("column `instance_types.vcpu_weight` is missing".into())
        )
    );
    assert_eq!(
        outcome(&doc, "hosts", "child3"),
        (
            "skipped".into(),
            Some("column `instances.cell_name` is missing".into())
        )
    );
    assert_eq!(outcome(&doc, "flavors", "child3"), ("ran".into(), None));
    assert_eq!(outcome(&doc, "hosts", "child2"), ("ran".into(), None));
    let expected: Vec<_> = expected(true)
        .into_iter()
        .filter(|(cell, check, ..)| {
            let skipped =
                (cell == "child2" && check == "flavors") || (cell == "child3" && check == "hosts");
            !skipped
        })
        .collect();
    assert_eq!(essentials(&doc), expected);
}

#[test]
fn a_parent_whose_flavors_moved_to_the_api_database_skips_the_flavor_check() {
    let cells = mariadb_cells(
        MariaDb::shared(),
        &[(
            "api",
            "UPDATE instance_types SET deleted = id, deleted_at = '2017-01-01 00:00:00'",
        )],
    );
    let (_, doc) = audit(&cells, &[]);
    for cell in CELLS {
        let (status, reason) = outcome(&doc, "flavors", cell);
        assert_eq!(status, "skipped", "{cell}");
        assert!(reason.unwrap().contains("nova_api database"), "{cell}");
    }
    assert!(
        essentials(&doc)
            .iter()
            .all(|(_, check, ..)| check == "hosts")
    );
}

#[test]
fn checks_lists_hosts_and_flavors() {
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .arg("checks")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["hosts ", "flavors "] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} in:\n{text}"
        );
    }
}
