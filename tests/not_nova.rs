//! A database that is not Nova's never audits as SUCCESS: a parent or API database without Nova's core
//! tables aborts the audit ("not a Nova database", 255, `cellaudit_audit_success 0`); a child or cell
//! on which every check was skipped is a failure naming what is missing. 0-byte SQLite files and empty
//! MariaDB databases, as the issue found them.

mod common;

use common::{MariaDb, cellaudit, json_run, sqlite_cell, v1_fixtures};
use serde_json::Value;

fn not_audited<'a>(doc: &'a Value, cell: &str) -> Option<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "cell_not_audited" && f["cell"] == cell)
}

fn parent_is_refused(parent: &str, child: &str) {
    let args = |fmt: &str| {
        vec![
            "audit".to_string(),
            "--parent".into(),
            parent.into(),
            "--child".into(),
            format!("child1={child}"),
            "--format".into(),
            fmt.into(),
        ]
    };
    let run = cellaudit(&args("table"));
    assert_eq!(run.code, 255, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "the parent 'parent' is not a Nova database (tables `instances`, `services` are missing)"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("SUCCESS"), "{}", run.stdout);
    let run = cellaudit(&args("prometheus"));
    assert_eq!(run.code, 255);
    assert!(
        run.stdout.contains("cellaudit_audit_success 0\n"),
        "{}",
        run.stdout
    );
}

fn child_is_a_failure(parent: &str, child: &str) {
    let (code, doc) = json_run(vec![
        "audit".into(),
        "--parent".into(),
        parent.into(),
        "--child".into(),
        format!("child1={child}"),
    ]);
    assert_eq!(code, 2, "{doc}");
    let f = not_audited(&doc, "child1").unwrap_or_else(|| panic!("no cell_not_audited: {doc}"));
    assert_eq!(f["severity"], "failure");
    assert_eq!(
        f["message"],
        "child 'child1' was read but not audited: it is not a Nova database (tables `instances`, `services` are missing)"
    );
}

#[test]
fn zero_byte_sqlite_files_are_not_nova_databases() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let empty = format!("sqlite://{}", empty.display());
    parent_is_refused(&empty, &empty);
    let parent = sqlite_cell(dir.path(), "api", &v1_fixtures("api", &[""]));
    child_is_a_failure(&parent, &empty);
    // The cells v2 API database likewise.
    let run = cellaudit(&["audit", "--api-db", &empty]);
    assert_eq!(run.code, 255, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("is not a Nova API database (table `cell_mappings` is missing)"),
        "{}",
        run.stdout
    );
}

#[test]
fn empty_mariadb_databases_are_not_nova_databases() {
    let server = MariaDb::shared();
    let empty = server.create_database("not_nova_empty");
    let parent = common::mariadb_cell(server, "not_nova_parent", &v1_fixtures("api", &[""]));
    parent_is_refused(&empty, &empty);
    child_is_a_failure(&parent, &empty);
    // Cells v2: an empty API DB aborts; a mapped cell read from an empty database is a failure.
    let run = cellaudit(&["upgrade-check", "--api-db", &empty]);
    assert_eq!(run.code, 255, "{}{}", run.stdout, run.stderr);
    let (api, _cells) = common::v2_deployment(server, "not_nova_v2");
    let (code, doc) = json_run(vec![
        "audit".into(),
        "--api-db".into(),
        api,
        "--cell-url".into(),
        format!("cell1={empty}"),
    ]);
    assert_eq!(code, 2, "{doc}");
    let f = not_audited(&doc, "cell1").unwrap_or_else(|| panic!("no cell_not_audited: {doc}"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("cell 'cell1' was read but not audited"),
        "{f}"
    );
}
