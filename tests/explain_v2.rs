//! Tests of `cellaudit explain` on the cells v2 fixture deployment (built by Nova) in a private MariaDB.

mod common;

use assert_cmd::Command;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// `--api-db` and a `--cell-url` per cell, so the dumped `cell_mappings` need not point at this server.
fn topology() -> &'static Vec<String> {
    static T: OnceLock<Vec<String>> = OnceLock::new();
    T.get_or_init(|| {
        let (api, cells) = common::v2_deployment(common::MariaDb::shared(), "x2");
        let mut args = vec!["--api-db".to_string(), api];
        for (c, url) in cells {
            args.extend(["--cell-url".to_string(), format!("{c}={url}")]);
        }
        args
    })
}

fn explain(what: &str, id: &str) -> (i32, Value) {
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(["explain", what, id, "--format", "json"])
        .args(topology())
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), doc)
}

fn verdict(doc: &Value) -> Vec<String> {
    doc["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn host_with_a_mapping_to_the_wrong_cell() {
    let (code, doc) = explain("host", "cmp-14");
    assert_eq!(code, 2);
    assert_eq!(doc["topology"], "cells-v2");
    let h = &doc["hosts"][0];
    assert_eq!(
        (h["host"].as_str(), h["mapped_to"].as_str()),
        (Some("cmp-14"), Some("cell1"))
    );
    assert_eq!(h["lives_in"], json!(["cell2"]));
    assert_eq!(
        verdict(&doc)[0],
        "host 'cmp-14' lives in cell2 but its host mapping names cell1: the scheduler sends builds to the wrong cell"
    );
    assert_eq!(doc["findings"][0]["kind"], "mapped_to_wrong_cell");
}

#[test]
fn unmapped_host_points_at_discover_hosts() {
    let (_, doc) = explain("host", "cmp-04");
    assert_eq!(doc["hosts"][0]["lives_in"], json!(["cell1"]));
    assert!(doc["hosts"][0].get("mapped_to").is_none());
    assert_eq!(
        doc["fixes"],
        json!([
            "nova-manage cell_v2 discover_hosts --by-service   (maps compute hosts that have no host mapping)"
        ])
    );
}

#[test]
fn api_aggregate_with_a_hypervisor_hostname_member() {
    let (code, doc) = explain("aggregate", "az-b");
    assert_eq!(code, 2);
    assert_eq!(doc["aggregates"][0]["cell"], "api");
    assert_eq!(doc["aggregates"][0]["availability_zone"], "az-b");
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["cmp-03.example.org", "cmp-12", "cmp-13"]);
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"member_is_hypervisor_hostname"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"host_in_multiple_azs"), "{kinds:?}");
}

#[test]
fn instance_mapped_to_a_cell_that_lacks_it() {
    let uuid = "00000000-0000-4000-8000-000000000203";
    let (code, doc) = explain("instance", uuid);
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
            ("api", "mapped"),
            ("cell0", "absent"),
            ("cell1", "absent"),
            ("cell2", "live"),
            ("cell3", "absent")
        ]
    );
    assert_eq!(doc["instances"][0]["columns"]["mapped_cell"], "cell1");
    let v = verdict(&doc);
    assert_eq!(v[0], format!("instance {uuid} is live in cell2"));
    assert_eq!(v[1], "the API DB maps it to cell cell1");
}
