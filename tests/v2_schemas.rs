//! The cells v2 audit on older schemas, made by dropping from the Nova 34 fixture the columns each older release lacks:
//! every check still runs (no "AUDIT NOT RUN", no skipped check) and the findings change only where the missing column
//! carried the information.

mod common;

use common::{MariaDb, essentials, json_run};
use serde_json::{Value, json};

/// The columns older releases lack, newest first: (release that added it, database, table, column).
const ADDED: &[(&str, &str, &str, &str)] = &[
    ("Train (main 399)", "cell", "instances", "hidden"),
    ("Stein (API 062)", "api", "instance_mappings", "user_id"),
    (
        "Rocky (API 061)",
        "api",
        "instance_mappings",
        "queued_for_delete",
    ),
    ("Rocky (API 058)", "api", "cell_mappings", "disabled"),
    ("Pike (main 360)", "cell", "compute_nodes", "mapped"),
    ("Pike (main 359)", "cell", "services", "uuid"),
];

/// The fixture deployment with every column of `ADDED` dropped (an Ocata-shaped schema with Nova 34's rows).
fn ocata_shaped(server: &MariaDb) -> Vec<String> {
    let (api, cells) = common::v2_deployment(server, "v2old");
    for (_, db, table, column) in ADDED {
        let targets: Vec<&String> = match *db {
            "api" => vec![&api],
            _ => cells.iter().map(|(_, u)| u).collect(),
        };
        for t in targets {
            // services.uuid has a unique index that must go first.
            if *column == "uuid" {
                server.exec(t, "ALTER TABLE services DROP INDEX services_uuid_idx");
            }
            server.exec(t, &format!("ALTER TABLE {table} DROP COLUMN {column}"));
        }
    }
    let mut args = vec!["audit".to_string(), "--api-db".to_string(), api];
    for (name, url) in &cells {
        args.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    args
}

fn f(check: &str, kind: &str, severity: &str, cell: &str, key: Value) -> Value {
    json!({"check": check, "kind": kind, "severity": severity, "cell": cell, "key": key})
}

#[test]
fn an_ocata_shaped_schema_is_audited_with_every_check() {
    let server = MariaDb::shared();
    let (code, doc) = json_run(ocata_shaped(server));
    assert_eq!(doc["aborted"], Value::Null, "{doc}");
    assert_eq!(code, 2);
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ran", "{c}");
    }
    let got = essentials(&doc);
    let golden: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("fixtures/v2/expected-findings.json"))
            .unwrap(),
    )
    .unwrap();
    let mut want: Vec<Value> = golden
        .into_iter()
        // No `disabled` column: no cell can be disabled.
        .filter(|x| x["kind"] != "cell_disabled")
        .map(|mut x| {
            // No `mapped` flag: cmp-05 is plainly unmapped (discover_hosts would map it).
            if x["kind"] == "unmapped_flag_stale" {
                x["kind"] = json!("unmapped");
            }
            x
        })
        .collect();
    // 405 is mapped to cell2 and archived; without queued_for_delete nothing says it was deleted.
    want.push(f(
        "instance_mappings",
        "mapped_instance_missing",
        "warning",
        "api",
        json!({"instance": "00000000-0000-4000-8000-000000000405"}),
    ));
    // 110's hidden copy in cell1 is an ordinary live copy without the column (no cross-cell resize before Train).
    want.push(f(
        "instance_mappings",
        "live_in_several_cells",
        "failure",
        "cell1",
        json!({"instance": "00000000-0000-4000-8000-000000000110"}),
    ));
    let key = |v: &Value| v.to_string();
    want.sort_by_key(key);
    let mut sorted = got.clone();
    sorted.sort_by_key(key);
    assert_eq!(
        sorted,
        want,
        "{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}
