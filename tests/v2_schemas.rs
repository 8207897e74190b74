//! Cells v2 cases built on the Nova 34 fixture: older schemas (the columns each older release lacks dropped: every
//! check still runs and the findings change only where the missing column carried the information), two cell
//! mappings on one database, and a cross-cell resize caught mid-swap.

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
    let mut args = vec![
        "audit".to_string(),
        "--api-db".to_string(),
        api,
        "--as-of".to_string(),
        "2025-06-01 12:30:00".to_string(),
    ];
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
        // No `disabled` column: no cell can be disabled; no `user_id` column: nothing to be NULL.
        .filter(|x| x["kind"] != "cell_disabled" && x["kind"] != "mapping_column_null")
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

/// The Nova 34 fixture with its cells pointed at the test server; returns (API URL, cell URLs by name, args).
fn current(server: &MariaDb, prefix: &str) -> (String, Vec<(String, String)>, Vec<String>) {
    let (api, cells) = common::v2_deployment(server, prefix);
    let mut args = vec![
        "audit".to_string(),
        "--api-db".to_string(),
        api.clone(),
        "--as-of".to_string(),
        "2025-06-01 12:30:00".to_string(),
    ];
    for (name, url) in &cells {
        args.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    (api, cells, args)
}

fn golden() -> Vec<Value> {
    serde_json::from_str(
        &std::fs::read_to_string(common::root().join("fixtures/v2/expected-findings.json"))
            .unwrap(),
    )
    .unwrap()
}

/// A second cell mapping on cell3's database (before Queens, create_cell did not refuse it): one finding naming
/// the cause, not every instance and host of cell3 reported again as living in two cells.
#[test]
fn two_mappings_on_one_database_are_reported_once_as_the_cause() {
    let server = MariaDb::shared();
    let (api, cells, mut args) = current(server, "v2share");
    server.exec(
        &api,
        "INSERT INTO cell_mappings (uuid, name, transport_url, database_connection, disabled) \
         SELECT 'c4444444-4444-4444-8444-444444444444', 'cell4', transport_url, database_connection, 0 \
         FROM cell_mappings WHERE name = 'cell3'",
    );
    let cell3 = &cells.iter().find(|(n, _)| n == "cell3").unwrap().1;
    args.extend(["--cell-url".to_string(), format!("cell4={cell3}")]);
    let (code, doc) = json_run(args);
    assert_eq!(code, 2);
    let mut want = golden();
    want.insert(
        want.iter()
            .position(|f| f["severity"] != "failure" || f["check"] != "api_aggregates")
            .unwrap(),
        f(
            "cell_mappings",
            "cells_share_database",
            "failure",
            "api",
            json!({"cell": "cell4"}),
        ),
    );
    let key = |v: &Value| v.to_string();
    want.sort_by_key(key);
    let mut got = essentials(&doc);
    got.sort_by_key(key);
    assert_eq!(got, want);
}

/// 110 mid-swap of a cross-cell resize: both copies visible and `resized`. Within --lag that is the swap
/// (info); long after, a real duplicate (failure).
#[test]
fn a_cross_cell_resize_mid_swap_is_info_within_lag() {
    let server = MariaDb::shared();
    let (_, cells, args) = current(server, "v2swap");
    let cell1 = &cells.iter().find(|(n, _)| n == "cell1").unwrap().1;
    let cell2 = &cells.iter().find(|(n, _)| n == "cell2").unwrap().1;
    let uuid = "00000000-0000-4000-8000-000000000110";
    server.exec(
        cell1,
        &format!("UPDATE instances SET hidden = 0, vm_state = 'resized', updated_at = '2025-06-01 12:20:00' WHERE uuid = '{uuid}'"),
    );
    server.exec(
        cell2,
        &format!("UPDATE instances SET vm_state = 'resized', task_state = 'resize_finish' WHERE uuid = '{uuid}'"),
    );
    let of_110 = |doc: &Value| -> Vec<(String, String)> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["key"]["instance"] == uuid)
            .map(|x| {
                (
                    x["kind"].as_str().unwrap().to_string(),
                    x["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (_, doc) = json_run(args.clone());
    assert_eq!(
        of_110(&doc),
        [("live_in_several_cells".to_string(), "info".to_string())]
    );
    let mut later = args;
    let at = later.iter().position(|a| a == "--as-of").unwrap();
    later[at + 1] = "2025-06-02 12:30:00".into();
    let (_, doc) = json_run(later);
    assert_eq!(
        of_110(&doc),
        [("live_in_several_cells".to_string(), "failure".to_string())]
    );
}
