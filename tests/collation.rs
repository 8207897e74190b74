//! Names the database treats as equal: Nova's MySQL tables are `utf8mb3_general_ci` (case-insensitive,
//! trailing spaces ignored), so a parent `CASE-AGG` or `space-agg ` and a child `case-agg` or
//! `space-agg` are one aggregate to the child's database. They are reported as their own finding kind
//! (Nova's Python code compares exactly), never as missing, and sync never plans an insert the
//! database would take for a duplicate. SQLite columns compare bytes: there they are different names.

mod common;

use common::{MariaDb, cellaudit, json_run, v1_fixtures};
use serde_json::Value;
use std::path::{Path, PathBuf};

const PARENT_ROWS: &str = "-- Collation look-alikes (tests/collation.rs).
INSERT INTO aggregates (created_at, id, name, deleted, uuid) VALUES
 ('2019-03-03 10:00:00', 900, 'CASE-AGG', 0, '0a000000-0000-4000-8000-000000000900'),
 ('2019-03-03 10:00:00', 901, 'space-agg ', 0, '0a000000-0000-4000-8000-000000000901'),
 ('2019-03-03 10:00:00', 902, 'host-case-agg', 0, '0a000000-0000-4000-8000-000000000902');
INSERT INTO aggregate_hosts (created_at, id, host, aggregate_id, deleted) VALUES
 ('2019-03-03 10:00:00', 900, 'cmp-01', 900, 0),
 ('2019-03-03 10:00:00', 901, 'cmp-01', 901, 0),
 ('2019-03-03 10:00:00', 902, 'cmp-02', 902, 0);
-- A flavor whose name the child holds in another case, under another flavorid.
INSERT INTO instance_types (created_at, id, name, memory_mb, vcpus, swap, vcpu_weight, flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted) VALUES
 ('2019-02-01 10:00:00', 900, 'C1.COLL', 512, 1, 0, NULL, 'coll-p', 1.0, 1, 0, 0, 1, 0);
";

const CHILD_ROWS: &str = "-- Collation look-alikes (tests/collation.rs).
INSERT INTO aggregates (created_at, id, name, deleted, uuid) VALUES
 ('2019-03-03 10:00:00', 900, 'case-agg', 0, '0a000000-0000-4000-8000-000000000900'),
 ('2019-03-03 10:00:00', 901, 'space-agg', 0, '0a000000-0000-4000-8000-000000000901'),
 ('2019-03-03 10:00:00', 902, 'host-case-agg', 0, '0a000000-0000-4000-8000-000000000902');
INSERT INTO aggregate_hosts (created_at, id, host, aggregate_id, deleted) VALUES
 ('2019-03-03 10:00:00', 900, 'cmp-01', 900, 0),
 ('2019-03-03 10:00:00', 901, 'cmp-01', 901, 0),
 ('2019-03-03 10:00:00', 902, 'CMP-02', 902, 0);
INSERT INTO instance_types (created_at, id, name, memory_mb, vcpus, swap, vcpu_weight, flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted) VALUES
 ('2019-02-01 10:00:00', 900, 'c1.coll', 512, 1, 0, NULL, 'coll-c', 1.0, 1, 0, 0, 1, 0);
";

const NAMES: &[&str] = &[
    "CASE-AGG",
    "case-agg",
    "space-agg ",
    "space-agg",
    "host-case-agg",
];

fn files(dir: &Path, cell: &str) -> Vec<PathBuf> {
    let mut f = v1_fixtures(cell, &[""]);
    let extra = dir.join(format!("collation-{cell}.sql"));
    std::fs::write(
        &extra,
        if cell == "api" {
            PARENT_ROWS
        } else {
            CHILD_ROWS
        },
    )
    .unwrap();
    f.push(extra);
    f
}

fn audit_args(parent: &str, child: &str) -> Vec<String> {
    vec![
        "audit".into(),
        "--parent".into(),
        parent.into(),
        "--child".into(),
        format!("child1={child}"),
        "--check".into(),
        "aggregates,aggregate_hosts".into(),
        "--expect".into(),
        "all".into(),
    ]
}

/// (check, kind, aggregate, host) of the findings about the look-alike aggregates.
fn lookalike_findings(doc: &Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["key"]["aggregate"]
                .as_str()
                .is_some_and(|a| NAMES.contains(&a))
        })
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["key"]["aggregate"].as_str().unwrap().to_string(),
                f["key"]["host"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn t(c: &str, k: &str, a: &str, h: &str) -> (String, String, String, String) {
    (c.into(), k.into(), a.into(), h.into())
}

#[test]
fn mariadb_matches_names_and_hosts_as_general_ci_does_and_sync_plans_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = MariaDb::shared();
    let parent = common::mariadb_cell(server, "coll_parent", &files(dir.path(), "api"));
    let child = common::mariadb_cell(server, "coll_child1", &files(dir.path(), "child1"));
    assert_eq!(
        server
            .query(
                &child,
                "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'aggregates' AND COLUMN_NAME = 'name'"
            )
            .trim(),
        "utf8mb3_general_ci"
    );
    let (_, doc) = json_run(audit_args(&parent, &child));
    assert_eq!(
        lookalike_findings(&doc),
        vec![
            t(
                "aggregate_hosts",
                "host_differs_by_case_or_space",
                "host-case-agg",
                "cmp-02"
            ),
            t(
                "aggregates",
                "name_differs_by_case_or_space",
                "CASE-AGG",
                ""
            ),
            t(
                "aggregates",
                "name_differs_by_case_or_space",
                "space-agg ",
                ""
            ),
        ],
        "{doc}"
    );
    // The dry run plans no insert of a look-alike: the flavor whose name the child's unique key
    // already holds (in another case) is refused with the reason.
    let mut sync: Vec<String> = vec!["sync".into()];
    sync.extend(audit_args(&parent, &child)[1..5].iter().cloned());
    let run = cellaudit(&sync);
    assert!(
        run.stdout.contains(
            "already has a live flavor named \"c1.coll\" (the same name as 'C1.COLL' to its database's collation)"
        ),
        "{}",
        run.stdout
    );
    for name in ["CASE-AGG", "space-agg ", "CMP-02", "'cmp-02'", "C1.COLL"] {
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.starts_with("INSERT") && l.contains(name)),
            "{name}: {}",
            run.stdout
        );
    }
    // And applying it is not rolled back by a guard that finds the look-alike row.
    let jdir = tempfile::tempdir().unwrap();
    sync.extend([
        "--apply".into(),
        "--yes".into(),
        "--journal-dir".into(),
        jdir.path().display().to_string(),
    ]);
    let run = cellaudit(&sync);
    assert_ne!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains("changed since the plan was made"),
        "{}",
        run.stdout
    );
    assert_eq!(
        server
            .query(
                &child,
                "SELECT COUNT(*) FROM aggregates WHERE name = 'case-agg'"
            )
            .trim(),
        "1"
    );
}

#[test]
fn sqlite_compares_bytes_so_the_look_alikes_are_different_names() {
    let dir = tempfile::tempdir().unwrap();
    let parent = common::sqlite_cell(dir.path(), "api", &files(dir.path(), "api"));
    let child = common::sqlite_cell(dir.path(), "child1", &files(dir.path(), "child1"));
    let (_, doc) = json_run(audit_args(&parent, &child));
    assert_eq!(
        lookalike_findings(&doc),
        vec![
            t(
                "aggregate_hosts",
                "extra_in_child",
                "host-case-agg",
                "CMP-02"
            ),
            t(
                "aggregate_hosts",
                "missing_in_child",
                "host-case-agg",
                "cmp-02"
            ),
            t("aggregates", "missing_in_child", "CASE-AGG", ""),
            t("aggregates", "missing_in_child", "space-agg ", ""),
            t("aggregates", "only_in_child", "case-agg", ""),
            t("aggregates", "only_in_child", "space-agg", ""),
        ],
        "{doc}"
    );
}
