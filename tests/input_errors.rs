//! Input mistakes an operator makes, each reported for what it is: IPv6 literals connect, any `ssl_*`
//! URL option means TLS is required, an empty or non-UTF-8 password source is a misconfiguration, and a
//! config error names the line of the bad key.

mod common;

use common::{MariaDb, cellaudit, cellaudit_env, json_run, sqlite_cell, v1_fixtures};
use std::net::TcpListener;
use std::sync::OnceLock;

fn parent() -> &'static String {
    static P: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_cell(dir.path(), "api", &v1_fixtures("api", &[""]));
        (dir, url)
    })
    .1
}

fn child_status(child_url: &str) -> serde_json::Value {
    let (_, doc) = json_run(vec![
        "audit".into(),
        "--parent".into(),
        parent().clone(),
        "--child".into(),
        format!("child1={child_url}"),
        "--connect-timeout".into(),
        "3".into(),
    ]);
    doc["cells"][1].clone()
}

#[test]
fn an_ipv6_literal_is_connected_to_not_looked_up() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("NOTE: no IPv6 loopback on this machine; skipping");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let accepted = std::thread::spawn(move || {
        // The first connection is cellaudit's; close it at once (no MySQL handshake). Bounded, so
        // the old code (which never connected) fails instead of hanging.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok((s, _)) = listener.accept() {
                drop(s);
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    });
    let c = child_status(&format!("mysql://nova@[::1]:{port}/nova"));
    assert!(
        accepted.join().unwrap(),
        "nothing connected to [::1]:{port}"
    );
    let err = c["error"].as_str().unwrap_or_default();
    assert!(!err.contains("lookup"), "{c}");
    assert_eq!(c["url"], format!("mysql://nova@[::1]:{port}/nova"));
}

#[test]
fn any_ssl_option_requires_tls() {
    let server = MariaDb::shared();
    let db = common::mariadb_cell(server, "tls_child", &v1_fixtures("child1", &[""]));
    let name = common::db_name(&db);
    let sock = server.socket().display().to_string();
    // The plain URL works: the private server has no TLS, which is what the cases below rely on.
    let plain = format!("mysql://root@localhost/{name}?unix_socket={sock}");
    assert_eq!(child_status(&plain)["status"], "ok");
    // A client certificate without a CA, or ssl_mode=REQUIRED: TLS is required, never plaintext.
    for q in [
        "ssl_cert=/nonexistent/c.pem&ssl_key=/nonexistent/k.pem",
        "ssl_mode=REQUIRED",
    ] {
        let c = child_status(&format!("{plain}&{q}"));
        assert_eq!(c["status"], "unreachable", "{q}: {c}");
        assert!(c["error"].as_str().unwrap().contains("TLS"), "{q}: {c}");
    }
    // Options cellaudit cannot honour are refused, not ignored.
    for (q, why) in [
        ("ssl_cert=/c.pem", "ssl_cert and ssl_key go together"),
        (
            "ssl_mode=DISABLED",
            "ssl_mode must be REQUIRED, VERIFY_CA or VERIFY_IDENTITY",
        ),
        (
            "ssl_verify_cert=1",
            "unsupported TLS parameter 'ssl_verify_cert'",
        ),
        ("ssl_mode=VERIFY_CA", "needs ssl_ca"),
    ] {
        let c = child_status(&format!("{plain}&{q}"));
        assert_eq!(c["status"], "misconfigured", "{q}: {c}");
        assert!(c["error"].as_str().unwrap().contains(why), "{q}: {c}");
    }
}

#[test]
fn empty_or_undecodable_password_sources_are_misconfigurations() {
    let dir = tempfile::tempdir().unwrap();
    let empty_file = dir.path().join("pw");
    std::fs::write(&empty_file, "\n").unwrap();
    let child = "mysql://nova@127.0.0.1:1/nova";
    let base = |extra: &[String]| {
        let mut a = vec![
            "audit".to_string(),
            "--parent".into(),
            parent().clone(),
            "--child".into(),
            format!("child1={child}"),
            "--format".into(),
            "json".into(),
        ];
        a.extend(extra.iter().cloned());
        a
    };
    let run = cellaudit(&base(&[
        "--password-file".into(),
        format!("child1={}", empty_file.display()),
    ]));
    assert!(
        run.stdout
            .contains("is empty (the password is its first line)"),
        "{}",
        run.stdout
    );
    let run = cellaudit_env(
        &base(&["--password-env".into(), "child1=CA_TEST_PW".into()]),
        &[("CA_TEST_PW", "")],
    );
    assert!(
        run.stdout
            .contains("environment variable CA_TEST_PW (password_env) is empty"),
        "{}",
        run.stdout
    );
    // A variable holding bytes that are not UTF-8 is reported as such, not as "not set".
    use std::os::unix::ffi::OsStrExt;
    let out = assert_cmd::Command::cargo_bin("cellaudit")
        .unwrap()
        .args(base(&["--password-env".into(), "child1=CA_TEST_PW".into()]))
        .env_remove("CELLAUDIT_CONFIG")
        .env("CA_TEST_PW", std::ffi::OsStr::from_bytes(b"pw\xff\xfe"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("environment variable CA_TEST_PW (password_env) is not valid UTF-8"),
        "{stdout}"
    );
}

#[test]
fn config_errors_name_the_line_of_the_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[parent]\nurl = \"sqlite:///x.db\"\nbogus_key = 1\n[[child]]\nname = \"c\"\nurl = \"sqlite:///y.db\"\n",
    )
    .unwrap();
    let run = cellaudit(&["audit", "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 255);
    assert!(
        run.stderr.contains(" at line 3: unknown field `bogus_key`"),
        "{}",
        run.stderr
    );
    // A value of the wrong type that holds a URL is not echoed.
    std::fs::write(
        &path,
        "connect_timeout = \"mysql://nova:S3CRET@h/nova\"\n[parent]\nurl = \"sqlite:///x.db\"\n",
    )
    .unwrap();
    let run = cellaudit(&["audit", "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 255);
    assert!(run.stderr.contains(" at line 1: "), "{}", run.stderr);
    assert!(!run.stderr.contains("S3CRET"), "{}", run.stderr);
}
