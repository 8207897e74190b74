//! The cells v2 audit on deployments built by each release's own Nova (`fixtures/releases/v2/<release>/`): the
//! healthy twin gives exit 0 and no finding, the drift twin exactly the findings its README documents (D1-D14),
//! with every check run on the release's own schema. Each twin is loaded once per test binary.

mod common;

use common::{MariaDb, cellaudit, json_run, root};
use serde_json::Value;

/// The twin's databases on the shared server, as `audit` arguments (cells pointed at them with --cell-url).
fn twin_args(release: &str, twin: &str) -> Vec<String> {
    let server = MariaDb::shared();
    let dir = root().join("fixtures/releases/v2").join(release);
    let mut urls = Vec::new();
    for part in ["nova_api", "cell0", "cell1", "cell2"] {
        let url = server.create_database(&format!("rel_{release}_{twin}_{part}"));
        let schema = if part == "nova_api" {
            "schema-api.sql"
        } else {
            "schema-main.sql"
        };
        server.load_sql_file(&url, &dir.join(schema));
        server.load_sql_file(&url, &dir.join(twin).join(format!("{part}.sql")));
        urls.push(url);
    }
    let mut args = vec!["audit".to_string(), "--api-db".to_string(), urls[0].clone()];
    for (name, url) in ["cell0", "cell1", "cell2"].iter().zip(&urls[1..]) {
        args.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    args
}

/// (cell, check, kind, severity, key values joined by '/') of each finding, in report order.
fn findings(doc: &Value) -> Vec<(String, String, String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            let key: Vec<&str> = f["key"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_str().unwrap())
                .collect();
            (
                s("cell"),
                s("check"),
                s("kind"),
                s("severity"),
                key.join("/"),
            )
        })
        .collect()
}

/// Every check ran on every database, each database says which release made it, nothing was aborted.
fn assert_fully_audited(doc: &Value, release_label: &str) {
    assert_eq!(doc["aborted"], Value::Null, "{doc}");
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ran", "{c}");
    }
    for c in doc["cells"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
        assert_eq!(c["release"], release_label, "{c}");
    }
}

fn healthy(release: &str, label: &str) {
    let args = twin_args(release, "healthy");
    let (code, doc) = json_run(args.clone());
    assert_fully_audited(&doc, label);
    assert_eq!(findings(&doc), vec![], "{doc}");
    assert_eq!(code, 0);
    // Each database says how long it took and how many rows it gave.
    for c in doc["cells"].as_array().unwrap() {
        assert!(c["read_seconds"].as_f64().unwrap() > 0.0, "{c}");
        assert!(c["rows_read"].as_u64().unwrap() > 0, "{c}");
    }
    // One database at a time gives the same answer; so does the table, with the same exit code.
    let mut serial = args.clone();
    serial.extend(["--jobs".to_string(), "1".to_string()]);
    let (code, one) = json_run(serial);
    assert_eq!((code, findings(&one)), (0, vec![]), "{one}");
    let table = cellaudit(&args);
    assert_eq!(table.code, 0, "{}", table.stdout);
}

#[test]
fn jobs_must_be_at_least_one() {
    for flag in ["--jobs", "--jobs-per-server"] {
        let run = cellaudit(&["audit", "--api-db", "mysql://root@localhost/x", flag, "0"]);
        assert_eq!(run.code, 255, "{}", run.stderr);
        assert!(run.stderr.contains("must be at least 1"), "{}", run.stderr);
    }
}

/// D1-D12, which every release shows the same way (README of fixtures/releases/v2).
const COMMON_DRIFT: &[(&str, &str, &str, &str, &str)] = &[
    (
        "api",
        "api_aggregates",
        "member_case_differs",
        "failure",
        "gpu/Cmp-12",
    ), // D4
    (
        "api",
        "api_aggregates",
        "member_unknown",
        "failure",
        "gpu/ghost-09",
    ), // D3
    (
        "api",
        "host_mappings",
        "host_live_in_several_cells",
        "failure",
        "dup-01",
    ), // D5
    (
        "api",
        "host_mappings",
        "mapped_to_wrong_cell",
        "failure",
        "cmp-13",
    ), // D2
    (
        "api",
        "instance_mappings",
        "mapped_to_wrong_cell",
        "failure",
        "00000000-0000-4000-8000-000000000152",
    ), // D8
    (
        "api",
        "instance_mappings",
        "build_stuck",
        "warning",
        "00000000-0000-4000-8000-000000000156",
    ), // D12
    (
        "api",
        "request_specs",
        "orphan",
        "info",
        "00000000-0000-4000-8000-000000000154",
    ), // D10
    (
        "cell1",
        "host_mappings",
        "duplicate_compute_node",
        "failure",
        "cmp-03",
    ), // D6
    ("cell1", "host_mappings", "unmapped", "failure", "cmp-05"), // D1
    (
        "cell1",
        "instance_mappings",
        "instance_unmapped",
        "failure",
        "00000000-0000-4000-8000-000000000151",
    ), // D7
];

const D9: (&str, &str, &str, &str, &str) = (
    "cell1",
    "request_specs",
    "missing",
    "warning",
    "00000000-0000-4000-8000-000000000153",
);
const D11: (&str, &str, &str, &str, &str) = (
    "cell2",
    "instance_hosts",
    "az_mismatch",
    "warning",
    "00000000-0000-4000-8000-000000000155",
);

/// The drift twin's findings: COMMON_DRIFT, then D13 (legacy aggregate, cell1) where the release has it, D9,
/// D11, then D14 (legacy flavor, cell2) where it has it, in report order.
fn drift(release: &str, label: &str, d13: Option<&str>, d14: Option<&str>) {
    let (code, doc) = json_run(twin_args(release, "drift"));
    assert_fully_audited(&doc, label);
    let mut want: Vec<(&str, &str, &str, &str, &str)> = COMMON_DRIFT.to_vec();
    if let Some(sev) = d13 {
        want.push((
            "cell1",
            "legacy_tables",
            "legacy_aggregate",
            sev,
            "legacy-az",
        ));
    }
    want.push(D9);
    want.push(D11);
    if let Some(sev) = d14 {
        want.push(("cell2", "legacy_tables", "legacy_flavor", sev, "99"));
    }
    // Report order: by cell, then severity (worst first), then check, kind, key.
    let rank = |c: &str| {
        ["api", "cell0", "cell1", "cell2"]
            .iter()
            .position(|x| *x == c)
    };
    let sev = |s: &str| ["failure", "warning", "info"].iter().position(|x| *x == s);
    want.sort_by_key(|w| (rank(w.0), sev(w.3), w.1, w.2, w.4));
    let want: Vec<(String, String, String, String, String)> = want
        .into_iter()
        .map(|(a, b, c, d, e)| (a.into(), b.into(), c.into(), d.into(), e.into()))
        .collect();
    assert_eq!(findings(&doc), want);
    assert_eq!(code, 2);
}

#[test]
fn ocata_healthy_twin_is_clean() {
    healthy("ocata", "Ocata (15)");
}

/// Ocata reads main-DB aggregates merged with the API DB's and falls back to main-DB flavors.
#[test]
fn ocata_drift_twin_gives_exactly_its_documented_findings() {
    drift("ocata", "Ocata (15)", Some("failure"), Some("warning"));
}

#[test]
fn queens_healthy_twin_is_clean() {
    healthy("queens", "Queens (17)");
}

/// Queens still merges main-DB aggregates but no longer reads main-DB flavors (nova/objects/flavor.py @17.0.0).
#[test]
fn queens_drift_twin_gives_exactly_its_documented_findings() {
    drift("queens", "Queens (17)", Some("failure"), Some("info"));
}

#[test]
fn stein_healthy_twin_is_clean() {
    healthy("stein", "Stein (19)");
}

/// Stein's fixture has no legacy rows (D13/D14 are Ocata and Queens only).
#[test]
fn stein_drift_twin_gives_exactly_its_documented_findings() {
    drift("stein", "Stein (19)", None, None);
}

/// Stein's computes (service version 37) against an upgrade to Epoxy (31), which supports computes from Caracal
/// (66) on: every live nova-compute fails nova-status's "Older than N-1 computes"; without a target the box is absent.
#[test]
fn upgrade_check_to_a_target_release_flags_computes_too_old_for_it() {
    let mut args = twin_args("stein", "healthy");
    args[0] = "upgrade-check".to_string();
    let plain = cellaudit(&args);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    assert!(
        !plain.stdout.contains("Older than N-1 computes"),
        "{}",
        plain.stdout
    );
    args.extend(["--target-release".to_string(), "epoxy".to_string()]);
    let run = cellaudit(&args);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("| Check: Older than N-1 computes"),
        "{}",
        run.stdout
    );
    // cmp-01..04, ironic-01, ironic-02 in cell1; cmp-11, cmp-12 in cell2 (old-01 is deleted: not counted).
    let flat: Vec<&str> = run
        .stdout
        .split_whitespace()
        .filter(|w| *w != "|")
        .collect();
    let flat = flat.join(" ");
    assert_eq!(
        flat.matches("reports service version 37;").count(),
        8,
        "{}",
        run.stdout
    );
    let bad = cellaudit(&[
        "upgrade-check",
        "--api-db",
        "mysql://x/y",
        "--target-release",
        "bogus",
    ]);
    assert_eq!(bad.code, 255);
}
