//! End-to-end tests of `cellaudit audit` on the cells v1 fixture deployment, in a private MariaDB and in SQLite.

mod common;

use common::{MariaDb, cellaudit_env, essentials, json_run, root, v1_audit_args};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
const ISSUE2_CHECKS: &str =
    "cell_registry,aggregates,aggregate_metadata,aggregate_hosts,availability_zones";

/// Loads Nova's schema and one cell's fixture rows into a fresh database on `server`.
fn load_cell(server: &MariaDb, cell: &str) -> String {
    common::mariadb_cell(server, cell, &common::v1_fixtures(cell, &[""]))
}

/// The fixture deployment on the shared server, built once; tests that change it build their own.
fn mariadb_deployment() -> &'static Vec<(String, String)> {
    static D: OnceLock<Vec<(String, String)>> = OnceLock::new();
    D.get_or_init(|| {
        let server = MariaDb::shared();
        CELLS
            .iter()
            .map(|c| (c.to_string(), load_cell(server, c)))
            .collect()
    })
}

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

fn golden() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("fixtures/v1/expected-findings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_golden(cells: &[(String, String)]) {
    let mut args = v1_audit_args(cells);
    args.extend(["--check".into(), ISSUE2_CHECKS.into()]);
    let (code, doc) = json_run(args);
    assert_eq!(essentials(&doc), golden());
    assert_eq!(code, 2, "failures present, so exit code 2");
    for cell in doc["cells"].as_array().unwrap() {
        assert_eq!(cell["status"], "ok", "{cell}");
    }
}

#[test]
fn mariadb_findings_match_the_golden_file() {
    assert_golden(mariadb_deployment());
}

#[test]
fn sqlite_findings_match_the_golden_file() {
    assert_golden(sqlite_deployment());
}

#[test]
fn json_document_follows_the_documented_schema() {
    let (_, doc) = json_run(v1_audit_args(mariadb_deployment()));
    assert_eq!(doc["tool"], "cellaudit");
    assert_eq!(doc["topology"], "cells-v1");
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(
        cells
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["role"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        vec![
            ("api", "parent"),
            ("child1", "child"),
            ("child2", "child"),
            ("child3", "child")
        ]
    );
    for c in cells {
        assert!(c["error"].is_null());
        assert!(
            c["schema_version"]
                .as_str()
                .unwrap()
                .starts_with("alembic ")
        );
    }
    for f in doc["findings"].as_array().unwrap() {
        for field in ["check", "kind", "cell", "message"] {
            assert!(f[field].is_string(), "{field} in {f}");
        }
        assert!(
            ["failure", "warning", "info"].contains(&f["severity"].as_str().unwrap()),
            "{f}"
        );
        assert!(f["key"].as_object().is_some_and(|k| !k.is_empty()), "{f}");
    }
    let missing = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "missing_in_child" && f["key"]["aggregate"] == "az-west-agg")
        .unwrap();
    assert_eq!(missing["cell"], "child2");
    assert_eq!(missing["parent"]["availability_zone"], "az-west");
    assert_eq!(
        missing["parent"]["hosts"],
        serde_json::json!(["api!child1@cmp-02", "cmp-01", "cmp-11"])
    );
    assert!(missing["child"].is_null());
    assert_eq!(
        missing["message"],
        "aggregate 'az-west-agg' (AZ 'az-west') exists in the parent but is missing from child2; its member host cmp-11 lives in child2"
    );
    let drift = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "value_differs" && f["key"]["aggregate"] == "az-east-agg")
        .unwrap();
    assert_eq!(
        (drift["parent"].as_str(), drift["child"].as_str()),
        (Some("az-east"), Some("az-East"))
    );
    let summary = &doc["summary"];
    assert_eq!(
        (
            summary["failure"].as_u64(),
            summary["warning"].as_u64(),
            summary["info"].as_u64()
        ),
        // host_in_multiple_cells (cmp-05 in child1 and child2) is a warning under cells v1 (issue 11).
        (Some(12), Some(10), Some(1))
    );
}

#[test]
fn table_output_names_objects_and_shows_the_drift_as_a_diff() {
    let run = cellaudit_env(&v1_audit_args(mariadb_deployment()), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("SUMMARY (check x cell)"), "{out}");
    // Findings are grouped by severity (failures first); piped output is 100 columns wide, where the
    // findings use the compact layout: one header line per finding, its text indented below.
    assert!(out.contains("FAILURES (12)\n"), "{out}");
    assert!(
        out.contains("FAILURE child2 aggregates/missing_in_child aggregate=az-west-agg\n"),
        "{out}"
    );
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert!(out.contains("- parent: az-east"), "{out}");
    assert!(out.contains("+ child2: az-East"), "{out}");
    assert!(out.contains("diff: az-[-e-]{+E+}ast"), "{out}");
    assert!(
        out.contains("Result: FAILURE (12 failures, 10 warnings, 1 info; exit code 2)"),
        "{out}"
    );
    assert!(
        !out.contains("MQ-SECRET"),
        "transport URL credentials leaked"
    );
}

#[test]
fn broker_credentials_never_appear_in_any_output() {
    let (_, doc) = json_run(v1_audit_args(mariadb_deployment()));
    assert!(!doc.to_string().contains("MQ-SECRET"));
}

#[test]
fn expect_all_requires_every_parent_aggregate_in_every_child() {
    let mut args = v1_audit_args(sqlite_deployment());
    args.extend([
        "--check".into(),
        "aggregates".into(),
        "--expect".into(),
        "all".into(),
    ]);
    let (_, doc) = json_run(args);
    let mut missing: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing_in_child")
        .map(|f| {
            (
                f["cell"].as_str().unwrap().into(),
                f["key"]["aggregate"].as_str().unwrap().into(),
            )
        })
        .collect();
    missing.sort();
    let want: Vec<(String, String)> = [
        ("child1", "az-east-agg"),
        ("child1", "az-north-agg"),
        ("child1", "az-south-agg"),
        ("child1", "empty-agg"),
        ("child1", "gpu-agg"),
        ("child2", "az-north-agg"),
        ("child2", "az-south-agg"),
        ("child2", "az-west-agg"),
        ("child2", "empty-agg"),
        ("child2", "gpu-agg"),
        ("child2", "path-agg"),
        ("child2", "ssd-agg"),
        ("child3", "az-east-agg"),
        ("child3", "az-north-agg"),
        ("child3", "az-west-agg"),
        ("child3", "dual-agg"),
        ("child3", "empty-agg"),
        ("child3", "path-agg"),
        ("child3", "ssd-agg"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(missing, want);
}

fn url_with_password(server: &MariaDb, db_url: &str, user: &str, password: &str) -> String {
    let db = common::db_name(db_url);
    format!(
        "mysql+pymysql://{user}:{password}@localhost/{db}?unix_socket={}&charset=utf8",
        server.socket().display()
    )
}

#[test]
fn wrong_password_is_one_clear_line_and_the_other_cells_are_still_audited() {
    let server = MariaDb::shared();
    let cells = mariadb_deployment();
    server.exec(
        &cells[2].1,
        "CREATE USER IF NOT EXISTS 'nova_ro'@'localhost' IDENTIFIED BY 'right-horse'; GRANT SELECT ON *.* TO 'nova_ro'@'localhost';",
    );
    let mut cells = cells.clone();
    cells[2].1 = url_with_password(server, &cells[2].1, "nova_ro", "Wr0ng-Battery");
    let (code, doc) = json_run(v1_audit_args(&cells));
    assert_eq!(code, 2);
    let child2 = &doc["cells"][2];
    assert_eq!(child2["status"], "unreachable");
    let err = child2["error"].as_str().unwrap();
    assert!(
        err.starts_with("cell 'child2' (mysql://nova_ro:****@localhost/"),
        "{err}"
    );
    assert!(
        err.contains("Access denied for user 'nova_ro'@'localhost'"),
        "{err}"
    );
    assert!(!err.contains('\n'));
    assert!(
        !doc.to_string().contains("Wr0ng-Battery"),
        "password leaked"
    );
    let f = essentials(&doc);
    assert!(f.contains(&serde_json::json!({"check": "connectivity", "kind": "cell_unreachable", "severity": "failure", "cell": "child2", "key": {"cell": "child2"}})));
    // child1 and child3 are still audited in full.
    assert!(
        f.iter()
            .any(|x| x["cell"] == "child1" && x["kind"] == "deleted_in_parent")
    );
    assert!(
        f.iter()
            .any(|x| x["cell"] == "child3" && x["kind"] == "only_in_child")
    );
    assert!(
        !f.iter()
            .any(|x| x["cell"] == "child2" && x["check"] != "connectivity")
    );
    let table = cellaudit_env(&v1_audit_args(&cells), &[]);
    assert!(!table.stdout.contains("Wr0ng-Battery") && !table.stderr.contains("Wr0ng-Battery"));
    assert!(table.stdout.contains("UNREACHABLE"));
}

#[test]
fn password_from_environment_or_file_instead_of_the_url() {
    let server = MariaDb::shared();
    let cells = mariadb_deployment();
    server.exec(
        &cells[1].1,
        "CREATE USER IF NOT EXISTS 'nova_env'@'localhost' IDENTIFIED BY 's3cret+pw'; GRANT SELECT ON *.* TO 'nova_env'@'localhost';",
    );
    let mut cells = cells.clone();
    cells[1].1 =
        url_with_password(server, &cells[1].1, "nova_env", "").replace("nova_env:@", "nova_env@");
    let mut args = v1_audit_args(&cells);
    args.extend([
        "--password-env".into(),
        "child1=CHILD1_DB_PW".into(),
        "--check".into(),
        ISSUE2_CHECKS.into(),
        "--format".into(),
        "json".into(),
    ]);
    let run = cellaudit_env(&args, &[("CHILD1_DB_PW", "s3cret+pw")]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["cells"][1]["status"], "ok", "{}", doc["cells"][1]);
    assert_eq!(essentials(&doc), golden());

    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("child1.pw");
    std::fs::write(&pw, "s3cret+pw\n").unwrap();
    let mut args = v1_audit_args(&cells);
    args.extend([
        "--password-file".into(),
        format!("child1={}", pw.display()),
        "--format".into(),
        "json".into(),
    ]);
    let run = cellaudit_env(&args, &[]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["cells"][1]["status"], "ok", "{}", doc["cells"][1]);
    assert!(!run.stdout.contains("s3cret"));
}

#[test]
fn a_dead_cell_is_reported_and_the_rest_audited() {
    let mut private = MariaDb::start_private();
    let mut cells = mariadb_deployment().clone();
    cells[3].1 = load_cell(&private, "child3");
    private.kill();
    let mut args = v1_audit_args(&cells);
    args.extend(["--connect-timeout".into(), "3".into()]);
    let (code, doc) = json_run(args);
    assert_eq!(code, 2);
    assert_eq!(doc["cells"][3]["status"], "unreachable");
    let err = doc["cells"][3]["error"].as_str().unwrap();
    assert!(
        err.starts_with("cell 'child3' (mysql://root@localhost/child3_"),
        "{err}"
    );
    assert!(err.contains("cannot reach the server"), "{err}");
    let f = essentials(&doc);
    assert!(
        f.iter()
            .any(|x| x["cell"] == "child2" && x["kind"] == "missing_in_child")
    );
    let outcomes: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell"] == "child3")
        .collect();
    assert_eq!(outcomes.len(), cellaudit::checks::V1_CHECKS.len());
    assert!(
        outcomes.iter().all(|c| c["status"] == "unavailable"),
        "{outcomes:?}"
    );
    // With child3's services unknown, a member living nowhere may live there: info, not warning.
    let ghost = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "host_in_no_child" && x["key"]["host"] == "ghost-07")
        .unwrap();
    assert_eq!(ghost["severity"], "info");
}

#[test]
fn unreachable_parent_means_the_audit_could_not_run() {
    let mut cells = sqlite_deployment().clone();
    cells[0].1 = "mysql://nova:pw-parent@127.0.0.1:1/nova".into();
    let mut args = v1_audit_args(&cells);
    args.extend(["--connect-timeout".into(), "3".into()]);
    let run = cellaudit_env(&args, &[]);
    assert_eq!(run.code, 255);
    assert!(
        run.stdout
            .contains("AUDIT NOT RUN: the parent could not be read"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("pw-parent") && !run.stderr.contains("pw-parent"));
}

#[test]
fn a_bad_child_url_names_the_cell_and_the_others_are_audited() {
    let mut cells = sqlite_deployment().clone();
    cells[1].1 = "mysql://nova:pw-x@db.example.org/nova?frobnicate=1".into();
    let (code, doc) = json_run(v1_audit_args(&cells));
    assert_eq!(code, 2);
    assert_eq!(doc["cells"][1]["status"], "misconfigured");
    assert_eq!(
        doc["cells"][1]["error"],
        "cell 'child1': unknown URL parameter 'frobnicate' (in mysql://nova:****@db.example.org/nova?frobnicate=1)"
    );
    assert!(
        essentials(&doc)
            .iter()
            .any(|x| x["cell"] == "child3" && x["kind"] == "only_in_child")
    );
}

#[test]
fn a_table_missing_in_an_older_schema_skips_the_check_with_the_reason() {
    let server = MariaDb::shared();
    let mut cells = mariadb_deployment().clone();
    cells[2].1 = load_cell(server, "child2");
    server.exec(
        &cells[2].1,
        "DROP TABLE cells; ALTER TABLE aggregates DROP COLUMN uuid;",
    );
    let (_, doc) = json_run(v1_audit_args(&cells));
    let outcome = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "cell_registry" && c["cell"] == "child2")
        .unwrap();
    assert_eq!(outcome["status"], "skipped");
    assert_eq!(outcome["reason"], "table `cells` is missing");
    // Without aggregates.uuid (pre-Mitaka) the aggregate checks still run; only the uuid comparison has nothing to compare.
    let f = essentials(&doc);
    assert!(f.iter().any(|x| x["cell"] == "child2"
        && x["kind"] == "missing_in_child"
        && x["key"]["aggregate"] == "az-west-agg"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn config_file_gives_the_same_audit_as_flags() {
    let cells = sqlite_deployment();
    let dir = tempfile::tempdir().unwrap();
    let mut toml = format!(
        "expect = \"members\"\n[parent]\nname = \"api\"\nurl = \"{}\"\n",
        cells[0].1
    );
    for (name, url) in &cells[1..] {
        toml.push_str(&format!("[[child]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    let cfg = write(dir.path(), "cellaudit.toml", &toml);
    let (code, doc) = json_run(vec![
        "audit".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--check".into(),
        ISSUE2_CHECKS.into(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(essentials(&doc), golden());
}

#[test]
fn malformed_config_is_one_line_and_exit_255() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "bad.toml",
        "[parent]\nurl = \"mysql://nova:pw-in-config@h/nova\"\n[[child]]\nname = \"c1\"\nurll = \"x\"\n",
    );
    let run = cellaudit_env::<String>(
        &["audit".into(), "--config".into(), cfg.display().to_string()],
        &[],
    );
    assert_eq!(run.code, 255);
    assert!(run.stdout.is_empty());
    let line = run.stderr.trim();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!("cellaudit: config {}", cfg.display())),
        "{line}"
    );
    assert!(line.contains("urll"), "{line}");
    assert!(!line.contains("pw-in-config"));
}

#[test]
fn usage_errors_exit_255_not_2() {
    let run = cellaudit_env::<String>(&["audit".into(), "--format".into(), "yaml".into()], &[]);
    assert_eq!(run.code, 255);
    let run = cellaudit_env::<String>(
        &["audit".into(), "--parent".into(), "sqlite:///x".into()],
        &[],
    );
    assert_eq!(run.code, 255);
    assert_eq!(
        run.stderr.trim(),
        "cellaudit: no child databases: give --child NAME=URL or [[child]] in --config"
    );
}

#[test]
fn help_shows_no_secret_from_the_environment() {
    let run = cellaudit_env::<String>(
        &["audit".into(), "--help".into()],
        &[("CHILD1_DB_PW", "env-secret-value")],
    );
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--password-env <CELL=VAR>"));
    assert!(!run.stdout.contains("env-secret-value"));
}

/// A deployment where parent and child agree: exit 0; then one warning-only drift: exit 1.
#[test]
fn exit_codes_follow_nova_status() {
    let dir = tempfile::tempdir().unwrap();
    let schema = root().join("fixtures/schema/main.sqlite.sql");
    let parent_rows = write(
        dir.path(),
        "p.sql",
        "\
        INSERT INTO cells (id, name, is_parent, deleted, transport_url) VALUES (1, 'c1', 0, 0, 'rabbit://u:p@mq/');\n\
        INSERT INTO aggregates (id, name, deleted, uuid) VALUES (5, 'az1-agg', 0, 'u-1');\n\
        INSERT INTO aggregate_metadata (id, aggregate_id, `key`, value, deleted) VALUES (1, 5, 'availability_zone', 'az1', 0);\n\
        INSERT INTO aggregate_hosts (id, host, aggregate_id, deleted) VALUES (1, 'api!c1@h1', 5, 0);\n",
    );
    let child_rows = write(
        dir.path(),
        "c.sql",
        "\
        INSERT INTO cells (id, name, is_parent, deleted, transport_url) VALUES (1, 'api', 1, 0, 'rabbit://u:p@mq/');\n\
        INSERT INTO services (id, host, `binary`, topic, report_count, disabled, deleted) VALUES (1, 'h1', 'nova-compute', 'compute', 0, 0, 0);\n\
        INSERT INTO aggregates (id, name, deleted, uuid) VALUES (1, 'az1-agg', 0, 'u-1');\n\
        INSERT INTO aggregate_metadata (id, aggregate_id, `key`, value, deleted) VALUES (1, 1, 'availability_zone', 'az1', 0);\n\
        INSERT INTO aggregate_hosts (id, host, aggregate_id, deleted) VALUES (1, 'h1', 1, 0);\n",
    );
    let p = common::sqlite_db(
        dir.path(),
        "p.sqlite",
        &[schema.as_path(), parent_rows.as_path()],
    );
    let c = common::sqlite_db(
        dir.path(),
        "c.sqlite",
        &[schema.as_path(), child_rows.as_path()],
    );
    let cells = vec![
        ("api".to_string(), p.clone()),
        ("c1".to_string(), c.clone()),
    ];
    let mut args = v1_audit_args(&cells);
    args.extend(["--check".into(), ISSUE2_CHECKS.into()]);
    let run = cellaudit_env(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Result: SUCCESS (no findings; exit code 0)"),
        "{}",
        run.stdout
    );

    let path = c.strip_prefix("sqlite://").unwrap();
    std::thread::spawn({
        let path = path.to_string();
        move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
                sqlx::raw_sql("INSERT INTO aggregate_metadata (id, aggregate_id, `key`, value, deleted) VALUES (2, 1, 'ssd', 'yes', 0)")
                    .execute(&mut conn)
                    .await
                    .unwrap();
            })
        }
    })
    .join()
    .unwrap();
    let run = cellaudit_env(&args, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Result: WARNING (1 warning; exit code 1)"),
        "{}",
        run.stdout
    );
}

#[test]
fn demo_finds_the_az_bug_in_one_command() {
    let run = cellaudit_env::<String>(&["demo".into(), "--format".into(), "json".into()], &[]);
    assert_eq!(run.code, 2);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let headline = serde_json::json!({"check": "aggregates", "kind": "missing_in_child", "severity": "failure", "cell": "child2", "key": {"aggregate": "az-west-agg"}});
    assert!(essentials(&doc).contains(&headline));
    assert!(run.stderr.contains("building a cells v1 deployment"));
    let table = cellaudit_env::<String>(&["demo".into()], &[]);
    assert_eq!(table.code, 2);
    assert!(
        table
            .stdout
            .contains("FAILURE child2 aggregates/missing_in_child aggregate=az-west-agg"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_child_url_without_its_name_does_not_show_the_password() {
    // Without NAME=, the '=' of the URL's query splits it, so the "name" holds the password.
    let run = cellaudit_env(
        &[
            "audit",
            "--parent",
            "sqlite:///nonexistent.db",
            "--child",
            "mysql://nova:pw-in-name@db/nova?charset=utf8",
        ],
        &[],
    );
    assert_eq!(run.code, 255);
    assert!(!run.stderr.contains("pw-in-name"), "{}", run.stderr);
    assert!(
        run.stderr.contains("was the NAME= part forgotten?"),
        "{}",
        run.stderr
    );
}
