//! Tests of `cellaudit explain` on the cells v1 fixture deployment (SQLite, and MariaDB for the headline case).

mod common;

use assert_cmd::Command;
use common::root;
use serde_json::{Value, json};
use std::sync::OnceLock;

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];

/// Builds the fixture deployment the way `cellaudit demo --keep` does, so explain sees every fixture file.
fn deployment() -> &'static (tempfile::TempDir, Vec<String>) {
    static D: OnceLock<(tempfile::TempDir, Vec<String>)> = OnceLock::new();
    D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::cargo_bin("cellaudit")
            .unwrap()
            .args(["demo", "--format", "json", "--keep"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let mut args = Vec::new();
        for c in CELLS {
            let url = format!("sqlite://{}/{c}.sqlite", dir.path().display());
            if c == "api" {
                args.extend([
                    "--parent".to_string(),
                    url,
                    "--parent-name".into(),
                    "api".into(),
                ]);
            } else {
                args.extend(["--child".to_string(), format!("{c}={url}")]);
            }
        }
        (dir, args)
    })
}

fn explain(what: &str, id: &str, format: &str) -> (i32, String) {
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(["explain", what, id, "--format", format])
        .args(&deployment().1)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn explain_json(what: &str, id: &str) -> (i32, Value) {
    let (code, text) = explain(what, id, "json");
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn rows(doc: &Value) -> Vec<(String, String, String)> {
    doc["aggregates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cell"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
                r["availability_zone"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn host<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == name)
        .unwrap()
}

#[test]
fn aggregate_is_shown_in_every_cell_with_where_its_hosts_live() {
    let (code, doc) = explain_json("aggregate", "az-west-agg");
    assert_eq!(code, 2);
    assert_eq!(
        rows(&doc),
        [
            ("api", "live", "az-west"),
            ("child1", "live", "az-west"),
            ("child2", "absent", "-"),
            ("child3", "absent", "-")
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(
        doc["aggregates"][0]["hosts"],
        json!(["api!child1@cmp-02", "cmp-01", "cmp-11"])
    );
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["cmp-01", "cmp-02", "cmp-04", "cmp-11"]);
    let cmp11 = host(&doc, "cmp-11");
    assert_eq!(cmp11["lives_in"], json!(["child2"]));
    assert_eq!(cmp11["parent_az"], json!(["az-west"]));
    assert_eq!(cmp11["child_az"], json!({"child2": []}));
    let verdict: Vec<&str> = doc["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(verdict.contains(
        &"host 'cmp-11' lives in child2: the API (api) puts it in AZ 'az-west', but child2's scheduler puts it in the default AZ; boots into AZ 'az-west' will not land on it"
    ));
    assert!(verdict.contains(
        &"host 'cmp-01' lives in child1 and is in AZ 'az-west' there and at the parent: consistent"
    ));
    assert_eq!(
        doc["fixes"],
        json!([
            "cellaudit sync <same topology options> --cell child2 --check aggregates   (dry run; add --apply to write)"
        ])
    );
    let kinds: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"]["aggregate"] == "az-west-agg")
        .map(|f| {
            (
                f["cell"].as_str().unwrap().into(),
                f["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("child1".to_string(), "extra_in_child".to_string()),
            ("child2".into(), "missing_in_child".into())
        ]
    );
}

#[test]
fn aggregate_can_be_named_by_uuid() {
    let (_, doc) = explain_json("aggregate", "0a000000-0000-4000-8000-000000000015");
    assert_eq!(
        rows(&doc),
        [
            ("api", "deleted", "-"),
            ("child1", "live", "az-retired"),
            ("child2", "absent", "-"),
            ("child3", "absent", "-")
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(doc["findings"][0]["kind"], "deleted_in_parent");
}

#[test]
fn host_explains_both_views_of_its_zone() {
    let (code, doc) = explain_json("host", "cmp-12");
    assert_eq!(code, 2);
    assert!(doc["aggregates"].as_array().unwrap().is_empty());
    let h = host(&doc, "cmp-12");
    assert_eq!(h["parent_az"], json!(["az-east"]));
    assert_eq!(h["child_az"], json!({"child2": ["az-East"]}));
    assert_eq!(
        h["aggregates"],
        json!({"api": ["az-east-agg"], "child2": ["az-east-agg"]})
    );
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["findings"][0]["kind"], "az_differs");
}

#[test]
fn az_lists_its_aggregates_in_every_cell_and_the_drift_fix() {
    let (code, doc) = explain_json("az", "az-east");
    assert_eq!(code, 2);
    assert_eq!(
        rows(&doc),
        [
            ("api", "live", "az-east"),
            ("child1", "absent", "-"),
            ("child2", "live", "az-East"),
            ("child3", "absent", "-")
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(
        host(&doc, "cmp-13")["parent_az"],
        json!(["az-east", "az-north"])
    );
    assert_eq!(
        doc["fixes"],
        json!([
            "cellaudit sync <same topology options> --cell child2 --check aggregate_hosts,aggregate_metadata --fix-drift   (dry run; add --apply to write)"
        ])
    );
}

#[test]
fn a_consistent_object_says_so_and_exits_0() {
    let (code, doc) = explain_json("aggregate", "empty-agg");
    assert_eq!(code, 0);
    assert_eq!(doc["verdict"], json!(["no problem found for this object"]));
    assert_eq!(doc["fixes"], json!([]));
}

#[test]
fn table_output_is_readable() {
    let (code, text) = explain("aggregate", "az-west-agg", "table");
    assert_eq!(code, 2);
    assert!(
        text.starts_with("explain aggregate 'az-west-agg' across 4 cells\n"),
        "{text}"
    );
    for part in [
        "AGGREGATES",
        "HOSTS",
        "AZ at the parent (api)",
        "VERDICT",
        "FIX\n",
    ] {
        assert!(text.contains(part), "{part} missing in:\n{text}");
    }
    assert!(text.contains("│ child2 │ -           │ absent │"), "{text}");
}

#[test]
fn explain_on_mariadb_finds_the_missing_aggregate() {
    let server = common::MariaDb::shared();
    let mut args = Vec::new();
    for c in CELLS {
        let url = server.create_database(c);
        server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
        let file = if c == "api" { "parent" } else { c };
        server.load_sql_file(&url, &root().join(format!("fixtures/v1/{file}.sql")));
        if c == "api" {
            args.extend([
                "--parent".to_string(),
                url,
                "--parent-name".into(),
                "api".into(),
            ]);
        } else {
            args.extend(["--child".to_string(), format!("{c}={url}")]);
        }
    }
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(["explain", "aggregate", "az-west-agg", "--format", "json"])
        .args(&args)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["aggregates"][2]["cell"], "child2");
    assert_eq!(doc["aggregates"][2]["state"], "absent");
    assert_eq!(host(&doc, "cmp-11")["lives_in"], json!(["child2"]));
}

#[test]
fn instance_is_shown_row_by_row_with_where_the_parent_routes_it() {
    let (code, doc) = explain_json("instance", "e1000000-0000-4000-8000-000000000005");
    assert_eq!(code, 2);
    let states: Vec<(&str, &str)> = doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["cell"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("api", "live"),
            ("child1", "live"),
            ("child2", "absent"),
            ("child3", "absent")
        ]
    );
    assert_eq!(doc["instances"][0]["columns"]["cell_name"], "api!child2");
    assert!(doc["instances"][1]["columns"].get("cell_name").is_none());
    let verdict: Vec<&str> = doc["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        verdict[0],
        "instance e1000000-0000-4000-8000-000000000005 is live in api, child1"
    );
    assert_eq!(verdict[1], "the parent routes it to cell_name 'api!child2'");
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.is_empty()
            && doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["key"]["instance"] == "e1000000-0000-4000-8000-000000000005")
    );
    assert_eq!(doc["fixes"].as_array().unwrap().len(), 1);
    assert!(
        doc["fixes"][0]
            .as_str()
            .unwrap()
            .contains("POST /os-cells/sync_instances")
    );
}

#[test]
fn a_ghost_instance_points_at_the_shadow_tables_not_at_a_resync() {
    let (_, doc) = explain_json("instance", "e1000000-0000-4000-8000-000000000004");
    assert_eq!(
        doc["verdict"][0],
        "instance e1000000-0000-4000-8000-000000000004 is live in api"
    );
    assert_eq!(doc["findings"][0]["kind"], "instance_ghost_at_top");
    assert_eq!(
        doc["fixes"],
        json!([
            "no child holds it: look for it in the children's shadow_instances (archived) before removing the parent's stale copy at the API cell"
        ])
    );
}

#[test]
fn an_unknown_instance_exists_nowhere() {
    let (code, doc) = explain_json("instance", "00000000-dead-4000-8000-000000000000");
    // Not "no problem found" with 0: the object exists nowhere (exit 3, documented in --help).
    assert_eq!(code, 3);
    assert_eq!(
        doc["verdict"][0],
        "instance 00000000-dead-4000-8000-000000000000 exists in no audited cell"
    );
    assert!(
        doc["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "absent")
    );
}

#[test]
fn an_unknown_aggregate_host_or_az_exists_nowhere_and_exits_3() {
    for (subject, id, line) in [
        (
            "aggregate",
            "no-such-agg",
            "aggregate no-such-agg exists in no audited cell",
        ),
        (
            "host",
            "no-such-host",
            "host no-such-host exists in no audited cell",
        ),
        (
            "az",
            "no-such-az",
            "availability zone no-such-az exists in no audited cell",
        ),
    ] {
        let (code, doc) = explain_json(subject, id);
        assert_eq!(code, 3, "{subject} {id}: {doc}");
        assert_eq!(doc["verdict"][0], line);
        assert!(
            !doc["verdict"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l == "no problem found for this object"),
            "{doc}"
        );
    }
    // An object that exists is not affected.
    let (code, _) = explain_json("aggregate", "az-west-agg");
    assert_ne!(code, 3);
}
