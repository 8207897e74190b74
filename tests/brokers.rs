//! The opt-in `brokers` check against the machine's real RabbitMQ (127.0.0.1:5672), a closed port,
//! and ports that accept TCP but do not speak AMQP 0-9-1, on SQLite and MariaDB fixture deployments.

mod common;

use cellaudit::broker::{Answer, Endpoint, probe};
use common::MariaDb;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
const RABBIT: &str = "127.0.0.1:5672";

/// The local RabbitMQ, started if it is installed but not running. `None` (with a note on
/// stderr) only when it is neither reachable nor startable.
fn rabbit() -> Option<&'static str> {
    static UP: OnceLock<bool> = OnceLock::new();
    let up = *UP.get_or_init(|| {
        let reachable =
            || TcpStream::connect_timeout(&RABBIT.parse().unwrap(), Duration::from_secs(2)).is_ok();
        if reachable() {
            return true;
        }
        let started = ["rabbitmq-server", "/usr/sbin/rabbitmq-server"]
            .iter()
            .any(|bin| {
                std::process::Command::new(bin)
                    .arg("-detached")
                    .status()
                    .is_ok_and(|s| s.success())
            });
        if started {
            let deadline = Instant::now() + Duration::from_secs(90);
            while Instant::now() < deadline {
                if reachable() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        false
    });
    if up {
        Some(RABBIT)
    } else {
        eprintln!(
            "NOTE: no RabbitMQ answers on {RABBIT} and `rabbitmq-server -detached` did not start one: skipping the live-broker part of this test"
        );
        None
    }
}

/// A port that was just freed: nothing listens there.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A local server that accepts TCP and then misbehaves with `serve`, for as long as the test runs.
fn misbehaving(serve: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Answers the AMQP header as an HTTP server would.
fn garbage(mut s: TcpStream) {
    let mut buf = [0u8; 8];
    let _ = s.read(&mut buf);
    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
}

/// Reads the header and hangs up without a word.
fn read_and_close(mut s: TcpStream) {
    let mut buf = [0u8; 8];
    let _ = s.read(&mut buf);
}

/// Accepts and never answers.
fn silent(s: TcpStream) {
    std::thread::sleep(Duration::from_secs(120));
    drop(s);
}

struct Ports {
    closed: u16,
    garbage: u16,
    read_close: u16,
    silent: u16,
}

fn ports() -> &'static Ports {
    static P: OnceLock<Ports> = OnceLock::new();
    P.get_or_init(|| Ports {
        closed: closed_port(),
        garbage: misbehaving(garbage),
        read_close: misbehaving(read_and_close),
        silent: misbehaving(silent),
    })
}

/// Points the fixture's `cells` rows at the test brokers; the passwords stay in the URLs.
fn broker_sql(dir: &Path, rabbit: &str) -> PathBuf {
    let p = ports();
    let sql = format!(
        "-- parent: child1 on RabbitMQ, child2 on a closed port, child4 on a cluster with one dead node.
UPDATE cells SET transport_url = 'rabbit://nova:MQ-SECRET-1@{rabbit}/child1' WHERE name = 'child1' AND is_parent = 0;
UPDATE cells SET transport_url = 'rabbit://nova:MQ-SECRET-2@127.0.0.1:{closed}/child2' WHERE name = 'child2' AND is_parent = 0;
UPDATE cells SET transport_url = 'rabbit://nova:MQ-SECRET-4@127.0.0.1:{closed},nova:MQ-SECRET-4@{rabbit}/child4' WHERE name = 'child4' AND is_parent = 0;
",
        closed = p.closed
    );
    let path = dir.join("brokers-parent.sql");
    std::fs::write(&path, sql).unwrap();
    path
}

fn child_sql(dir: &Path, cell: &str) -> PathBuf {
    let p = ports();
    let sql = match cell {
        "child1" => format!(
            "UPDATE cells SET transport_url = 'rabbit://nova:MQ-SECRET-API@127.0.0.1:{}/api' WHERE is_parent = 1;\n",
            p.garbage
        ),
        "child2" => format!(
            "UPDATE cells SET transport_url = 'rabbit://nova:MQ-SECRET-API@127.0.0.1:{}/api' WHERE is_parent = 1;\n",
            p.read_close
        ),
        _ => format!(
            "-- child3's old parent row is soft-deleted: never probed. A new one on a silent port, a grandchild
-- with a broken URL and one on another driver.
INSERT INTO cells (created_at, id, api_url, weight_offset, weight_scale, name, is_parent, deleted, transport_url) VALUES
 ('2020-01-01 00:00:00', 2, NULL, 0, 1, 'api-new', 1, 0, 'rabbit://nova:MQ-SECRET-API@127.0.0.1:{}/api'),
 ('2020-01-01 00:00:00', 3, NULL, 0, 1, 'child3a', 0, 0, 'rabbit://nova:MQ-SECRET-3A@127.0.0.1:notaport/'),
 ('2020-01-01 00:00:00', 4, NULL, 0, 1, 'child3b', 0, 0, 'kafka://nova:MQ-SECRET-3B@127.0.0.1:9092/');
",
            p.silent
        ),
    };
    let path = dir.join(format!("brokers-{cell}.sql"));
    std::fs::write(&path, sql).unwrap();
    path
}

fn extra_sql(dir: &Path, cell: &str, rabbit: &str) -> PathBuf {
    if cell == "api" {
        broker_sql(dir, rabbit)
    } else {
        child_sql(dir, cell)
    }
}

/// A cell's files: the base fixture rows, then its brokers.
fn files(dir: &Path, cell: &str, rabbit: &str) -> Vec<PathBuf> {
    let mut files = common::v1_fixtures(cell, &[""]);
    files.push(extra_sql(dir, cell, rabbit));
    files
}

fn sqlite_deployment(dir: &Path, rabbit: &str) -> Vec<(String, String)> {
    CELLS
        .iter()
        .map(|c| {
            let url = common::sqlite_cell(dir, c, &files(dir, c, rabbit));
            (c.to_string(), url)
        })
        .collect()
}

fn mariadb_deployment(dir: &Path, rabbit: &str) -> Vec<(String, String)> {
    let server = MariaDb::shared();
    CELLS
        .iter()
        .map(|c| {
            let url = common::mariadb_cell(server, &format!("brokers_{c}"), &files(dir, c, rabbit));
            (c.to_string(), url)
        })
        .collect()
}

fn audit_args(cells: &[(String, String)], extra: &[&str]) -> Vec<String> {
    let mut args = common::v1_audit_args(cells);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn cellaudit(args: &[String]) -> (i32, String, String) {
    let run = common::cellaudit(args);
    (run.code, run.stdout, run.stderr)
}

fn essentials(doc: &Value) -> Vec<Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!({"check": f["check"], "kind": f["kind"], "severity": f["severity"], "cell": f["cell"], "key": f["key"]}))
        .collect()
}

fn expected() -> Vec<Value> {
    let p = ports();
    let local = |port: u16| format!("127.0.0.1:{port}");
    vec![
        json!({"check": "brokers", "kind": "broker_unreachable", "severity": "failure", "cell": "api",
               "key": {"cell": "child2", "broker": local(p.closed)}}),
        json!({"check": "brokers", "kind": "broker_unreachable", "severity": "warning", "cell": "api",
               "key": {"cell": "child4", "broker": local(p.closed)}}),
        json!({"check": "brokers", "kind": "parent_broker_unreachable", "severity": "failure", "cell": "child1",
               "key": {"parent": "api", "broker": local(p.garbage)}}),
        json!({"check": "brokers", "kind": "parent_broker_unreachable", "severity": "failure", "cell": "child2",
               "key": {"parent": "api", "broker": local(p.read_close)}}),
        json!({"check": "brokers", "kind": "parent_broker_unreachable", "severity": "failure", "cell": "child3",
               "key": {"parent": "api-new", "broker": local(p.silent)}}),
        json!({"check": "brokers", "kind": "transport_url_invalid", "severity": "warning", "cell": "child3",
               "key": {"cell": "child3a"}}),
        json!({"check": "brokers", "kind": "broker_not_probed", "severity": "info", "cell": "child3",
               "key": {"cell": "child3b"}}),
    ]
}

fn finding<'a>(doc: &'a Value, kind: &str, cell: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["cell"] == cell)
        .unwrap_or_else(|| panic!("no {kind} in {cell}"))
}

fn check_deployment(cells: &[(String, String)], rabbit: &str) {
    let p = ports();
    let (code, out, err) = cellaudit(&audit_args(
        cells,
        &[
            "--check",
            "brokers",
            "--connect-timeout",
            "2",
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(!out.contains("MQ-SECRET") && !err.contains("MQ-SECRET"));
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(essentials(&doc), expected());

    let dead = finding(&doc, "broker_unreachable", "api");
    assert!(
        dead["message"].as_str().unwrap().contains(&format!(
            "TCP connect to 127.0.0.1:{} failed: Connection refused",
            p.closed
        )),
        "{dead}"
    );
    assert!(
        dead["impact"]
            .as_str()
            .unwrap()
            .contains("nova-manage cell delete --cell_name child2"),
        "{dead}"
    );
    let degraded = &doc["findings"][1];
    assert!(
        degraded["impact"].as_str().unwrap().contains(rabbit),
        "{degraded}"
    );
    let garbage = finding(&doc, "parent_broker_unreachable", "child1");
    assert!(
        garbage["message"]
            .as_str()
            .unwrap()
            .contains("not an AMQP 0-9-1 broker: first bytes 48545450"),
        "{garbage}"
    );
    let hangup = finding(&doc, "parent_broker_unreachable", "child2");
    assert!(
        hangup["message"]
            .as_str()
            .unwrap()
            .contains("closed the connection without an AMQP connection.start"),
        "{hangup}"
    );
    let silent = finding(&doc, "parent_broker_unreachable", "child3");
    assert!(
        silent["message"]
            .as_str()
            .unwrap()
            .contains("accepted TCP but sent no AMQP connection.start within 2s"),
        "{silent}"
    );
    let invalid = finding(&doc, "transport_url_invalid", "child3");
    assert!(
        invalid["message"]
            .as_str()
            .unwrap()
            .contains("broker 1 (127.0.0.1) has an invalid port"),
        "{invalid}"
    );

    // Every broker the rows name, with what it answered; the live one says what it runs.
    let brokers = doc["brokers"].as_array().unwrap();
    let up: Vec<(&str, &str, &str)> = brokers
        .iter()
        .filter(|b| b["up"] == true)
        .map(|b| {
            (
                b["registered_in"].as_str().unwrap(),
                b["cell"].as_str().unwrap(),
                b["broker"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        up,
        vec![("api", "child1", rabbit), ("api", "child4", rabbit)]
    );
    assert!(
        brokers[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("RabbitMQ "),
        "{}",
        brokers[0]
    );
    assert_eq!(brokers.len(), 7, "{brokers:?}");
    let outcomes: Vec<(&str, &str)> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cell"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("api", "ran"),
            ("child1", "ran"),
            ("child2", "ran"),
            ("child3", "ran")
        ]
    );

    // The same in the other formats, still without credentials.
    let (_, table, _) = cellaudit(&audit_args(
        cells,
        &["--brokers", "--check", "brokers", "--connect-timeout", "2"],
    ));
    assert!(!table.contains("MQ-SECRET"));
    assert!(
        table.contains(&format!("127.0.0.1:{}", p.closed)),
        "{table}"
    );
    let (_, prom, _) = cellaudit(&audit_args(
        cells,
        &[
            "--check",
            "brokers",
            "--connect-timeout",
            "2",
            "--format",
            "prometheus",
        ],
    ));
    assert!(!prom.contains("MQ-SECRET"));
    assert!(
        prom.contains(&format!(
            "cellaudit_broker_up{{registered_in=\"api\",cell=\"child1\",broker=\"{rabbit}\"}} 1\n"
        )),
        "{prom}"
    );
    assert!(
        prom.contains(&format!(
            "cellaudit_broker_up{{registered_in=\"api\",cell=\"child2\",broker=\"127.0.0.1:{}\"}} 0\n",
            p.closed
        )),
        "{prom}"
    );
}

#[test]
fn sqlite_deployment_reports_dead_and_non_amqp_brokers() {
    let Some(rabbit) = rabbit() else { return };
    let dir = tempfile::tempdir().unwrap();
    check_deployment(&sqlite_deployment(dir.path(), rabbit), rabbit);
}

#[test]
fn mariadb_deployment_reports_dead_and_non_amqp_brokers() {
    let Some(rabbit) = rabbit() else { return };
    let dir = tempfile::tempdir().unwrap();
    check_deployment(&mariadb_deployment(dir.path(), rabbit), rabbit);
}

#[test]
fn brokers_are_not_probed_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let cells = sqlite_deployment(dir.path(), "127.0.0.1:1");
    let (_, out, _) = cellaudit(&audit_args(&cells, &["--format", "json"]));
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc.get("brokers").is_none(), "{}", doc["brokers"]);
    assert!(
        !doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "brokers")
    );
    // --brokers adds the check to the default ones.
    let (_, out, _) = cellaudit(&audit_args(
        &cells,
        &["--brokers", "--connect-timeout", "2", "--format", "json"],
    ));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let checks: std::collections::BTreeSet<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(
        checks.contains("brokers") && checks.contains("aggregates"),
        "{checks:?}"
    );
    let (_, list, _) = cellaudit(&["checks".to_string()]);
    assert!(list.contains("brokers"), "{list}");
}

#[tokio::test]
async fn probe_answers_for_rabbitmq_a_closed_port_and_a_non_amqp_server() {
    let p = ports();
    let local = |port| Endpoint {
        host: "127.0.0.1".into(),
        port,
    };
    let t = Duration::from_secs(2);
    match probe(&local(p.closed), false, t).await {
        Answer::Down { reason } => assert!(reason.contains("Connection refused"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match probe(&local(p.garbage), false, t).await {
        Answer::Down { reason } => assert!(reason.contains("not an AMQP 0-9-1 broker"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A TLS endpoint is only connected to: the AMQP exchange would need the handshake first.
    assert_eq!(probe(&local(p.garbage), true, t).await, Answer::TcpOnly);
    let Some(rabbit) = rabbit() else { return };
    let (host, port) = rabbit.split_once(':').unwrap();
    let ep = Endpoint {
        host: host.into(),
        port: port.parse().unwrap(),
    };
    match probe(&ep, false, t).await {
        Answer::Up {
            server: Some(server),
        } => assert!(server.starts_with("RabbitMQ "), "{server}"),
        other => panic!("RabbitMQ at {rabbit}: {other:?}"),
    }
    let name = Endpoint {
        host: "localhost".into(),
        port: ep.port,
    };
    assert!(probe(&name, false, t).await.is_up(), "names resolve too");
}
