//! End-to-end tests of the placement checks on the placement fixture (fixtures/placement: rows written by
//! placement 16.0.0's own API and Nova 34's objects on top of the cells v2 fixture), in a private MariaDB.

mod common;

use common::{MariaDb, cellaudit, essentials, json_run, root};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

const CHECKS: &str = "placement_aggregates,resource_providers,allocations";

/// The deployment with the placement fixture's Nova rows added, and a placement database.
struct Deployment {
    api: String,
    cells: Vec<(String, String)>,
    placement: String,
}

impl Deployment {
    /// `--api-db` and a `--cell-url` for every cell.
    fn nova_args(&self) -> Vec<String> {
        let mut a = vec!["--api-db".to_string(), self.api.clone()];
        for (name, url) in &self.cells {
            a.extend(["--cell-url".to_string(), format!("{name}={url}")]);
        }
        a
    }
}

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/placement").join(name)
}

fn deployment() -> &'static Deployment {
    static D: OnceLock<Deployment> = OnceLock::new();
    D.get_or_init(|| {
        let server = MariaDb::shared();
        let (api, cells) = common::v2_deployment(server, "pl");
        server.load_sql_file(&api, &fixture("nova-api.sql"));
        for (name, url) in &cells {
            let extra = fixture(&format!("nova-{name}.sql"));
            if extra.exists() {
                server.load_sql_file(url, &extra);
            }
        }
        let placement = server.create_database("placement");
        server.load_sql_file(&placement, &fixture("placement-schema.sql"));
        server.load_sql_file(&placement, &fixture("placement.sql"));
        Deployment {
            api,
            cells,
            placement,
        }
    })
}

fn golden() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture("expected-findings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(extra: &[&str]) -> (i32, Value) {
    let d = deployment();
    let mut a = vec!["audit".to_string()];
    a.extend(d.nova_args());
    a.extend(extra.iter().map(|s| s.to_string()));
    json_run(a)
}

/// Findings of the placement checks only, in report order.
fn placement_findings(doc: &Value) -> Vec<Value> {
    essentials(doc)
        .into_iter()
        .filter(|f| {
            matches!(
                f["check"].as_str(),
                Some("placement_aggregates" | "resource_providers" | "allocations")
            )
        })
        .collect()
}

fn keyed(doc: &Value, field: &str, value: &str) -> Vec<Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"][field] == value)
        .cloned()
        .collect()
}

fn message(doc: &Value, kind: &str, field: &str, value: &str) -> String {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["key"][field] == value)
        .unwrap_or_else(|| panic!("no {kind} finding with {field} = {value}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn placement_checks_find_exactly_the_documented_drift() {
    let d = deployment();
    let (code, doc) = run(&["--placement-db", &d.placement, "--check", CHECKS]);
    assert_eq!(essentials(&doc), golden());
    assert_eq!(code, 2);
    let placement = doc["cells"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(placement["name"], "placement");
    assert_eq!(placement["role"], "placement");
    assert_eq!(placement["status"], "ok");

    // The AZ failure names the AZ and the host that cannot be chosen; the non-AZ warning the filters.
    let az = message(&doc, "az_aggregate_missing", "aggregate", "az-a");
    assert!(
        az.starts_with("AZ 'az-a'")
            && az.ends_with("hosts that cannot be chosen for 'az-a': cmp-02"),
        "{az}"
    );
    let gpu = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "aggregate_missing")
        .unwrap()
        .clone();
    assert_eq!(gpu["key"]["aggregate"], "gpu");
    let impact = gpu["impact"].as_str().unwrap();
    assert!(
        impact.contains("require_tenant_aggregate") && impact.contains("isolate_aggregates"),
        "{impact}"
    );
    // What stops sync_aggregates: ironic-02's two nodes (exit 1) and the unmapped members (exit 4).
    let sync = message(
        &doc,
        "sync_aggregates_blocked",
        "command",
        "nova-manage placement sync_aggregates",
    );
    assert!(
        sync.contains("exit code 1") && sync.contains("ironic-02 (2 compute nodes)"),
        "{sync}"
    );
    assert!(
        sync.contains("exits 4") && sync.contains("cmp-03.example.org, cmp-06 and ghost-07"),
        "{sync}"
    );
    let dup = message(&doc, "duplicate_compute_nodes", "node", "hv-16.example.org");
    assert!(dup.contains("is c0c0c0c0-0000-4000-8000-000000000016 (the one of compute node c0c0c0c0-0000-4000-8000-000000000016)"), "{dup}");
    let orphan = message(
        &doc,
        "orphaned_allocation",
        "consumer",
        "00000000-0000-4000-8000-000000000107",
    );
    assert!(
        orphan.contains("('deleted-vm') was deleted in cell1"),
        "{orphan}"
    );
}

#[test]
fn look_alikes_are_not_reported() {
    let d = deployment();
    let (_, doc) = run(&["--placement-db", &d.placement, "--check", CHECKS]);
    // ironic-02's two nodes (fixtures/v2) are one host's, not duplicates; its baremetal instance allocates correctly.
    assert!(keyed(&doc, "node", "1a1a1a1a-0000-4000-8000-000000000001").is_empty());
    assert!(keyed(&doc, "host", "ironic-02").is_empty());
    for provider in [
        "c0c0c0c0-0000-4000-8000-000000000021",
        "c0c0c0c0-0000-4000-8000-000000000022",
    ] {
        assert!(keyed(&doc, "provider", provider).is_empty(), "{provider}");
    }
    for uuid in [
        // 206 is live-migrating: its allocation is on the destination, the migration's on the source.
        "00000000-0000-4000-8000-000000000206",
        "ee000000-0000-4000-8000-000000000001",
        // 204 takes a vGPU from a child provider of its node; 205 its disk from a sharing provider.
        "00000000-0000-4000-8000-000000000204",
        "00000000-0000-4000-8000-000000000205",
        // 109 is live in two cells, 110 a cross-cell resize with a hidden copy; 116 is on an ironic node;
        // 117 is building with no host yet.
        "00000000-0000-4000-8000-000000000109",
        "00000000-0000-4000-8000-000000000110",
        "00000000-0000-4000-8000-000000000116",
        "00000000-0000-4000-8000-000000000117",
        // Not on a node: shelved (108), on a host of no cell (111), on another cell's host (106), cell0 (301).
        "00000000-0000-4000-8000-000000000108",
        "00000000-0000-4000-8000-000000000111",
        "00000000-0000-4000-8000-000000000106",
        "00000000-0000-4000-8000-000000000301",
    ] {
        assert!(keyed(&doc, "instance", uuid).is_empty(), "instance {uuid}");
        assert!(keyed(&doc, "consumer", uuid).is_empty(), "consumer {uuid}");
    }
    // The sharing provider, the nested vGPU provider and cmp-13's membership of the sharing aggregate.
    for provider in [
        "b5b5b5b5-0000-4000-8000-000000000001",
        "c1c1c1c1-0000-4000-8000-000000000013",
    ] {
        assert!(keyed(&doc, "provider", provider).is_empty(), "{provider}");
    }
    assert!(keyed(&doc, "host", "cmp-13").is_empty());
}

#[test]
fn a_full_audit_adds_placement_to_the_nova_checks() {
    let d = deployment();
    let (code, doc) = run(&["--placement-db", &d.placement]);
    assert_eq!(code, 2);
    assert_eq!(placement_findings(&doc), golden());
    assert!(
        essentials(&doc)
            .iter()
            .any(|f| f["check"] == "host_mappings" && f["kind"] == "unmapped"),
        "the Nova-side checks ran too"
    );
}

#[test]
fn without_placement_nothing_changes_unless_asked() {
    // Nova 34's nova_api still has empty placement tables: they are not placement's (it left in Train).
    let (_, doc) = run(&[]);
    assert!(placement_findings(&doc).is_empty());
    assert!(
        doc["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "placement")
    );
    let (_, doc) = run(&["--check", "placement_aggregates"]);
    let outcome = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "placement_aggregates")
        .unwrap()
        .clone();
    assert_eq!(outcome["status"], "skipped");
    assert!(
        outcome["reason"]
            .as_str()
            .unwrap()
            .contains("--placement-db"),
        "{outcome}"
    );
}

#[test]
fn unreachable_placement_is_reported_and_the_nova_checks_still_run() {
    let (code, doc) = run(&[
        "--placement-db",
        "mysql://placement:PL-SECRET@placement.invalid/placement",
        "--connect-timeout",
        "3",
    ]);
    assert_eq!(code, 2);
    let text = doc.to_string();
    assert!(!text.contains("PL-SECRET"), "{text}");
    let f = essentials(&doc);
    assert!(
        f.iter()
            .any(|f| f["check"] == "connectivity" && f["cell"] == "placement"),
        "{f:?}"
    );
    assert!(placement_findings(&doc).is_empty());
    assert!(
        f.iter().any(|f| f["check"] == "host_mappings"),
        "Nova-side checks ran"
    );
    let placement = doc["cells"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(placement["status"], "unreachable");
}

#[test]
fn placement_conf_and_config_file_name_the_database() {
    let d = deployment();
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("placement.conf");
    let db = common::db_name(&d.placement);
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\ndebug = true\n[placement_database]\nconnection = mysql+pymysql://root@localhost/{db}?unix_socket={}&charset=utf8\n",
            server.socket().display()
        ),
    )
    .unwrap();
    let (_, doc) = run(&[
        "--placement-conf",
        conf.to_str().unwrap(),
        "--check",
        CHECKS,
    ]);
    assert_eq!(essentials(&doc), golden());
    let toml = dir.path().join("cellaudit.toml");
    std::fs::write(&toml, format!("[placement]\nurl = \"{}\"\n", d.placement)).unwrap();
    let (_, doc) = run(&["--config", toml.to_str().unwrap(), "--check", CHECKS]);
    assert_eq!(essentials(&doc), golden());
    // A password source for a URL that carries none; a missing variable is a configuration error.
    std::fs::write(
        &toml,
        format!(
            "[placement]\nurl = \"{}\"\npassword_env = \"CELLAUDIT_TEST_NO_SUCH_VAR\"\n",
            d.placement
        ),
    )
    .unwrap();
    let (_, doc) = run(&["--config", toml.to_str().unwrap(), "--check", CHECKS]);
    let placement = doc["cells"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(placement["status"], "misconfigured");
    assert!(
        placement["error"]
            .as_str()
            .unwrap()
            .contains("CELLAUDIT_TEST_NO_SUCH_VAR")
    );
}

#[test]
fn prometheus_and_explain_show_the_placement_side() {
    let d = deployment();
    let mut a = vec!["audit".to_string()];
    a.extend(d.nova_args());
    a.extend([
        "--placement-db".into(),
        d.placement.clone(),
        "--check".into(),
        CHECKS.into(),
        "--format".into(),
        "prometheus".into(),
    ]);
    let prom = cellaudit(&a);
    assert_eq!(prom.code, 2);
    assert!(
        prom.stdout
            .lines()
            .any(|l| l.contains("check=\"placement_aggregates\"")
                && l.contains("az_aggregate_missing")),
        "{}",
        prom.stdout
    );

    let mut a = vec!["explain".to_string(), "az".into(), "az-a".into()];
    a.extend(d.nova_args());
    a.extend(["--placement-db".into(), d.placement.clone()]);
    let table = cellaudit(&a);
    assert_eq!(table.code, 2, "{}", table.stderr);
    assert!(
        table.stdout.contains("live (missing: cmp-02)"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("nova-manage placement sync_aggregates"),
        "{}",
        table.stdout
    );
    a.extend(["--format".into(), "json".into()]);
    let json: Value = serde_json::from_str(&cellaudit(&a).stdout).unwrap();
    let placement_row = json["aggregates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cell"] == "placement")
        .unwrap()
        .clone();
    assert_eq!(
        placement_row["hosts"],
        serde_json::json!(["cmp-01", "cmp-11"])
    );
    assert_eq!(placement_row["note"], "missing: cmp-02");

    let mut a = vec!["explain".to_string(), "host".into(), "cmp-14".into()];
    a.extend(d.nova_args());
    a.extend([
        "--placement-db".into(),
        d.placement.clone(),
        "--format".into(),
        "json".into(),
    ]);
    let json: Value = serde_json::from_str(&cellaudit(&a).stdout).unwrap();
    assert_eq!(
        json["hosts"][0]["aggregates"]["placement"],
        serde_json::json!(["az-b"])
    );
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "extra_membership"),
        "{json}"
    );
}

#[test]
fn upgrade_check_shows_placement_boxes_only_with_placement() {
    let d = deployment();
    let mut a = vec!["upgrade-check".to_string()];
    a.extend(d.nova_args());
    let without = cellaudit(&a);
    assert!(
        !without.stdout.contains("Placement aggregates"),
        "{}",
        without.stdout
    );
    a.extend(["--placement-db".into(), d.placement.clone()]);
    let with = cellaudit(&a);
    assert_eq!(with.code, 2);
    for title in [
        "Placement aggregates",
        "Resource providers",
        "Placement allocations",
    ] {
        assert!(with.stdout.contains(title), "{title}\n{}", with.stdout);
    }
    assert!(with.stdout.contains("AZ 'az-a'"), "{}", with.stdout);
}

#[test]
fn stein_keeps_placement_in_nova_api() {
    // Stein's own nova_api schema (API migration 062, made by nova 19.3.2's api_db sync) holding the same
    // aggregates, mappings and placement rows: with no placement database given, placement is read there.
    let d = deployment();
    let server = MariaDb::shared();
    let api = server.create_database("stein_api");
    server.load_sql_file(&api, &fixture("stein-api-schema.sql"));
    server.load_sql_file(&api, &fixture("stein-api.sql"));
    let mut a = vec!["audit".to_string(), "--api-db".into(), api.clone()];
    for (name, url) in &d.cells {
        a.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    a.extend(["--check".into(), CHECKS.into()]);
    let (code, doc) = json_run(a);
    // On Stein the AvailabilityZoneFilter still guards AZs; placement's AZ aggregate is read only with
    // [scheduler] query_placement_for_availability_zone, so a missing one is a warning, not a failure.
    let mut expected = golden();
    for f in &mut expected {
        if f["kind"] == "az_aggregate_missing" {
            f["severity"] = "warning".into();
        }
    }
    // A warning sorts among the warnings: compare as sets.
    let sorted = |mut v: Vec<Value>| {
        v.sort_by_key(|f| f.to_string());
        v
    };
    assert_eq!(sorted(essentials(&doc)), sorted(expected));
    assert_eq!(code, 2);
    let placement = doc["cells"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(placement["name"], "placement");
    assert_eq!(placement["schema_version"], "migrate 62");
    assert_eq!(
        placement["url"], doc["cells"][0]["url"],
        "read from the API DB"
    );
}

#[test]
fn ocata_reads_flat_providers_from_nova_api() {
    // Ocata's nova_api (API migration 031, fixtures/releases/v2/ocata made by nova 15.1.5's api_db sync) has
    // resource_providers without root/parent columns, and no traits: the same rows read there. With no
    // provider trees and no MISC_SHARES_VIA_AGGREGATE, 204's vGPU child and 205's sharing provider are
    // providers of their own (wrong_provider), and nfs-pool, with DISK_GB, looks like a compute node's
    // provider: exactly what Ocata could tell (those relations did not exist before Queens and Pike).
    let d = deployment();
    let server = MariaDb::shared();
    let api = server.create_database("ocata_api");
    server.load_sql_file(
        &api,
        &root().join("fixtures/releases/v2/ocata/schema-api.sql"),
    );
    server.load_sql_file(&api, &fixture("ocata-api.sql"));
    let mut a = vec!["audit".to_string(), "--api-db".into(), api];
    for (name, url) in &d.cells {
        a.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    a.extend(["--check".into(), CHECKS.into()]);
    let (code, doc) = json_run(a);
    let text = std::fs::read_to_string(fixture("expected-findings-ocata.json")).unwrap();
    let expected: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(essentials(&doc), expected);
    assert_eq!(code, 2);
    let placement = doc["cells"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(placement["schema_version"], "migrate 31");
    let golden = golden();
    let extra: Vec<&Value> = expected.iter().filter(|f| !golden.contains(f)).collect();
    assert_eq!(extra.len(), 3, "{extra:?}");
}

#[test]
fn one_cell_withholds_what_the_other_cells_would_decide() {
    // With only cell1 read, consumers and providers found nowhere may belong to cell0, cell2 or cell3:
    // counted in one info finding each, never reported as orphaned or stale; 109 (twin) and 110 (hidden
    // copy of a cross-cell resize) allocate from cmp-11 in cell2, which is not wrong for all cell1 knows.
    let d = deployment();
    let (code, doc) = run(&[
        "--placement-db",
        &d.placement,
        "--check",
        CHECKS,
        "--cell",
        "cell1",
    ]);
    let text = std::fs::read_to_string(fixture("expected-findings-cell1-only.json")).unwrap();
    let expected: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(essentials(&doc), expected);
    assert_eq!(code, 2);
    let m = message(
        &doc,
        "consumers_undecided",
        "cells",
        "cell0, cell2 and cell3",
    );
    assert!(m.starts_with("10 consumers allocate"), "{m}");
}
