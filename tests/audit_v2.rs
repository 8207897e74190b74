//! End-to-end tests of the cells v2 audit and `upgrade-check` on the fixture deployment Nova built, in a private MariaDB.

mod common;

use common::{MariaDb, cellaudit, essentials, json_run, root};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

const CELL3_UUID: &str = "c3333333-3333-4333-8333-333333333333";

/// One deployment: the API DB's URL and each cell's (name, URL), all on `server`.
struct Deployment {
    api: String,
    cells: Vec<(String, String)>,
}

impl Deployment {
    /// `--cell-url` for every cell, by name (cell3 by uuid, which works too).
    fn overrides(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (name, url) in &self.cells {
            let key = if name == "cell3" { CELL3_UUID } else { name };
            args.extend(["--cell-url".to_string(), format!("{key}={url}")]);
        }
        args
    }
}

/// Loads Nova's schemas and the fixture rows as dumped (cell_mappings name hosts that do not exist).
fn load(server: &MariaDb) -> Deployment {
    let (api, cells) = common::v2_deployment(server, "v2");
    Deployment { api, cells }
}

/// Nova's own spelling of a URL on the test server: `mysql+pymysql://...?unix_socket=`.
fn nova_url(server: &MariaDb, db: &str) -> String {
    format!(
        "mysql+pymysql://root@localhost/{db}?unix_socket={}",
        server.socket().display()
    )
}

/// The deployment with cell_mappings pointing at the test server: cells 0, 1, 3 as plain Nova URLs,
/// cell2 as a template that only renders to its database with the [database] connection below.
fn pointed(server: &MariaDb) -> &'static (Deployment, PathBuf, tempfile::TempDir) {
    static D: OnceLock<(Deployment, PathBuf, tempfile::TempDir)> = OnceLock::new();
    D.get_or_init(|| {
        let d = load(server);
        for (name, url) in &d.cells {
            let db = common::db_name(url);
            let conn = if name == "cell2" {
                format!("{{scheme}}://{{username}}@{{hostname}}/{db}?{{query}}")
            } else {
                nova_url(server, &db)
            };
            server.exec(
                &d.api,
                &format!("UPDATE cell_mappings SET database_connection = '{conn}' WHERE name = '{name}'"),
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("nova.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\ntransport_url = rabbit://nova:MQ-SECRET@mq.invalid/\n\n[api_database]\nconnection = {}\n\n[database]\n# the cells' template variables come from here\nconnection = {}\n",
                nova_url(server, &common::db_name(&d.api)),
                nova_url(server, "nova_unused"),
            ),
        )
        .unwrap();
        (d, conf, dir)
    })
}

/// The fixture's rows were all written at 2025-06-01 12:00:00 (build.sh): audits count --lag back from half an
/// hour later, so the build in flight (403) is not stuck while the month-old one (407) is.
const AS_OF: &str = "2025-06-01 12:30:00";

fn args(list: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    if matches!(list.first(), Some(&"audit") | Some(&"upgrade-check")) {
        out.extend(["--as-of".to_string(), AS_OF.to_string()]);
    }
    out
}

fn golden(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("fixtures/v2").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn statuses(doc: &Value) -> Vec<(String, String, String)> {
    doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["role"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn all_ok() -> Vec<(String, String, String)> {
    [
        ("api", "api"),
        ("cell0", "cell0"),
        ("cell1", "cell"),
        ("cell2", "cell"),
        ("cell3", "cell"),
    ]
    .iter()
    .map(|(n, r)| (n.to_string(), r.to_string(), "ok".to_string()))
    .collect()
}

#[test]
fn nova_conf_run_finds_exactly_the_documented_drift() {
    let (_, conf, _) = pointed(MariaDb::shared());
    let (code, doc) = json_run(args(&["audit", "--nova-conf", conf.to_str().unwrap()]));
    assert_eq!(essentials(&doc), golden("expected-findings.json"));
    assert_eq!(code, 2, "failures present, so exit code 2");
    assert_eq!(doc["topology"], "cells-v2");
    // cell2's URL is a template: it could only be read if it was rendered from [database] connection.
    assert_eq!(statuses(&doc), all_ok());
}

#[test]
fn cell_urls_override_the_mappings_and_secrets_never_show() {
    let server = MariaDb::shared();
    let d = load(server);
    let mut a = args(&["audit", "--api-db", &d.api]);
    a.extend(d.overrides());
    let (code, doc) = json_run(a.clone());
    assert_eq!(essentials(&doc), golden("expected-findings.json"));
    assert_eq!(code, 2);
    assert_eq!(statuses(&doc), all_ok());
    let table = cellaudit(&a);
    assert_eq!(table.code, 2);
    assert!(
        table
            .stdout
            .contains("cells-v2 audit of API database 'api' and 4 cells"),
        "{}",
        table.stdout
    );
    for text in [&table.stdout, &table.stderr, &doc.to_string()] {
        assert!(
            !text.contains("DB-SECRET") && !text.contains("MQ-SECRET"),
            "{text}"
        );
    }
}

#[test]
fn an_unreachable_cell_is_reported_and_the_rest_audited() {
    let server = MariaDb::shared();
    let d = load(server);
    let mut a = args(&["audit", "--api-db", &d.api]);
    for (name, url) in &d.cells {
        let url = if name == "cell2" {
            server.url("no_such_database")
        } else {
            url.clone()
        };
        a.extend(["--cell-url".to_string(), format!("{name}={url}")]);
    }
    let (code, doc) = json_run(a);
    assert_eq!(code, 2);
    let st = statuses(&doc);
    assert_eq!(st[3], ("cell2".into(), "cell".into(), "unreachable".into()));
    assert!(
        st.iter().filter(|s| s.0 != "cell2").all(|s| s.2 == "ok"),
        "{st:?}"
    );
    assert_eq!(
        essentials(&doc),
        golden("expected-findings-cell2-unreachable.json")
    );
    let err = doc["cells"][3]["error"].as_str().unwrap();
    assert!(err.contains("no_such_database"), "{err}");
}

#[test]
fn cell_narrows_the_run_and_withholds_what_needs_the_other_cells() {
    let (_, conf, _) = pointed(MariaDb::shared());
    let (code, doc) = json_run(args(&[
        "audit",
        "--nova-conf",
        conf.to_str().unwrap(),
        "--cell",
        "cell1",
    ]));
    assert_eq!(code, 2);
    let names: Vec<String> = statuses(&doc).into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["api", "cell1"]);
    assert_eq!(
        essentials(&doc),
        golden("expected-findings-cell1-only.json")
    );
}

#[test]
fn templated_connection_without_a_source_leaves_that_cell_misconfigured() {
    let server = MariaDb::shared();
    let d = load(server);
    let mut a = args(&["audit", "--api-db", &d.api, "--check", "cell_mappings"]);
    for (name, url) in &d.cells {
        if name != "cell2" {
            a.extend(["--cell-url".to_string(), format!("{name}={url}")]);
        }
    }
    let (code, doc) = json_run(a);
    assert_eq!(code, 2);
    assert_eq!(doc["cells"][3]["status"], "misconfigured");
    let err = doc["cells"][3]["error"].as_str().unwrap();
    assert!(err.contains("database_connection is a template"), "{err}");
    assert!(!doc.to_string().contains("DB-SECRET"));
}

#[test]
fn upgrade_check_prints_nova_status_boxes_and_exits_2() {
    let (_, conf, _) = pointed(MariaDb::shared());
    let run = cellaudit(&args(&[
        "upgrade-check",
        "--nova-conf",
        conf.to_str().unwrap(),
    ]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    let expected =
        std::fs::read_to_string(root().join("fixtures/v2/expected-upgrade-check.txt")).unwrap();
    assert_eq!(run.stdout, expected);
    let json = cellaudit(&args(&[
        "upgrade-check",
        "--nova-conf",
        conf.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(json.code, 2);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let results: Vec<(String, i64)> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["result"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("Cell mappings".to_string(), 0),
            ("Host mappings".to_string(), 2),
            ("Aggregates (API DB)".to_string(), 2),
            ("Instance mappings".to_string(), 2),
            ("Request Spec Migration".to_string(), 1),
            // Nova 34 never reads the legacy tables: their rows are info only.
            ("Legacy cell tables".to_string(), 0),
        ]
    );
}

/// An API DB with cell0 and one empty cell: nothing to find, then one stale host mapping.
#[test]
fn upgrade_check_exit_codes_0_1_and_255() {
    let server = MariaDb::shared();
    let api = server.create_database("v2_small_api");
    server.load_sql_file(&api, &root().join("fixtures/schema/api.mysql.sql"));
    let mut cells = Vec::new();
    for c in ["cell0", "cell1"] {
        let url = server.create_database(&format!("v2_small_{c}"));
        server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
        cells.push(nova_url(server, &common::db_name(&url)));
    }
    server.exec(
        &api,
        &format!(
            "INSERT INTO cell_mappings (uuid, name, transport_url, database_connection, disabled) VALUES \
             ('00000000-0000-0000-0000-000000000000', 'cell0', 'none:///', '{}', 0), \
             ('c1111111-1111-4111-8111-111111111111', 'cell1', 'rabbit://h/', '{}', 0)",
            cells[0], cells[1]
        ),
    );
    let check = |extra: &[&str]| {
        let mut a = args(&["upgrade-check", "--api-db", &api]);
        a.extend(args(extra));
        cellaudit(&a)
    };
    let clean = check(&[]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert_eq!(
        clean.stdout.matches("Result: Success").count(),
        6,
        "{}",
        clean.stdout
    );
    assert_eq!(
        clean.stdout.matches("Details: None").count(),
        6,
        "{}",
        clean.stdout
    );

    server.exec(&api, "INSERT INTO host_mappings (cell_id, host) SELECT id, 'old-cmp' FROM cell_mappings WHERE name = 'cell1'");
    let warn = check(&[]);
    assert_eq!(warn.code, 1, "{}", warn.stdout);
    assert!(
        warn.stdout.contains("| Check: Host mappings"),
        "{}",
        warn.stdout
    );
    assert!(warn.stdout.contains("| Result: Warning"), "{}", warn.stdout);
    assert!(
        warn.stdout
            .contains("warning (api): host mapping for 'old-cmp' (cell1)"),
        "{}",
        warn.stdout
    );

    let gone = cellaudit(&args(&[
        "upgrade-check",
        "--api-db",
        &server.url("no_api_here"),
    ]));
    assert_eq!(gone.code, 255);
    assert!(gone.stdout.contains("| Result: Failure"), "{}", gone.stdout);
    assert!(
        gone.stdout.contains("the API database could not be read"),
        "{}",
        gone.stdout
    );
}

#[test]
fn one_topology_per_run_with_one_line_errors() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "audit",
                "--api-db",
                "mysql://u@h/nova_api",
                "--parent",
                "mysql://u@h/nova",
            ],
            "give either cells v1 databases (--parent/--child/--config) or a cells v2 API database (--api-db/--nova-conf), not both",
        ),
        (
            &[
                "audit",
                "--parent",
                "mysql://u@h/nova",
                "--child",
                "c=mysql://u@h/c",
                "--cell",
                "cell1",
            ],
            // --default-az is a cells v1 option too since issue 11 (the AZ of hosts in no AZ aggregate).
            "--cell, --cell-url and --database-connection are cells v2 options: they need --api-db or --nova-conf",
        ),
        (
            &[
                "audit",
                "--api-db",
                "mysql://u@h/nova_api",
                "--cell-url",
                "cell1",
            ],
            "--cell-url expects NAME=URL or UUID=URL, but the value has no '='",
        ),
        (
            &["audit", "--nova-conf", "/nonexistent/nova.conf"],
            "cannot read nova.conf /nonexistent/nova.conf: No such file or directory (os error 2)",
        ),
    ];
    for (a, msg) in cases {
        let run = cellaudit(&args(a));
        assert_eq!(run.code, 255, "{a:?}");
        assert_eq!(run.stderr, format!("cellaudit: {msg}\n"), "{a:?}");
    }
    let (_, conf, _) = pointed(MariaDb::shared());
    let run = cellaudit(&args(&[
        "audit",
        "--nova-conf",
        conf.to_str().unwrap(),
        "--cell",
        "cell9",
    ]));
    assert_eq!(run.code, 255);
    assert!(
        run.stdout
            .contains("--cell 'cell9' matches no cell mapping (cells: cell0, cell1, cell2, cell3)"),
        "{}",
        run.stdout
    );
}
