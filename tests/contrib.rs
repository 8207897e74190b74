//! The files in contrib/ stay in step with the program: their command lines parse with today's
//! flags, the example configuration loads, and systemd accepts the units.

use clap::Parser as _;
use std::path::PathBuf;

fn contrib(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Parses a cellaudit command line as the binary would and returns its audit arguments.
fn parse(words: &[&str]) -> cellaudit::cli::AuditArgs {
    assert_eq!(words[0].rsplit('/').next(), Some("cellaudit"), "{words:?}");
    match cellaudit::cli::Cli::try_parse_from(words) {
        Ok(cellaudit::cli::Cli {
            command: cellaudit::cli::Command::Audit(a),
            ..
        }) => a,
        Ok(_) => panic!("not an audit: {words:?}"),
        Err(e) => panic!("{words:?}: {e}"),
    }
}

fn assert_periodic_job(a: &cellaudit::cli::AuditArgs) {
    assert_eq!(a.format, cellaudit::cli::FormatArg::Prometheus);
    assert_eq!(
        a.output.as_deref(),
        Some(std::path::Path::new(
            "/var/lib/node_exporter/textfile_collector/cellaudit.prom"
        ))
    );
    assert_eq!(
        a.topology.config.as_deref(),
        Some(std::path::Path::new("/etc/cellaudit/cellaudit.toml"))
    );
    assert!(a.quiet);
}

#[test]
fn systemd_exec_start_parses() {
    let unit = contrib("systemd/cellaudit.service");
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_periodic_job(&parse(&words));
    assert!(unit.contains("SuccessExitStatus=1 2"));
}

#[test]
fn cron_line_parses() {
    let cron = contrib("cron/cellaudit");
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && !l.contains('=') && !l.trim().is_empty())
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    // minute hour dom month dow user, then the command.
    assert_eq!(&words[..6], ["17", "*", "*", "*", "*", "cellaudit"]);
    let cmd = &words[6..];
    assert_eq!(&cmd[..3], ["flock", "-n", "/run/lock/cellaudit.lock"]);
    assert_periodic_job(&parse(&cmd[3..]));
}

#[test]
fn example_configuration_loads() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contrib/cellaudit.toml");
    let args = parse(&["cellaudit", "audit", "--config", path.to_str().unwrap()]);
    let cfg = cellaudit::config::AuditConfig::from_args(&args).unwrap();
    assert_eq!(cfg.parent.name, "api");
    let children: Vec<&str> = cfg.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(children, ["child1", "child2"]);
    assert!(
        cfg.checks.iter().any(|c| c.name.as_str() == "brokers"),
        "brokers = true selects the opt-in check"
    );
}

#[test]
fn systemd_accepts_the_units() {
    let ok = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("NOTE: systemd-analyze is not installed: the units were not verified");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // verify insists that ExecStart= exists, so point it at the binary under test.
    let bin = assert_cmd::cargo::cargo_bin("cellaudit");
    let service = contrib("systemd/cellaudit.service")
        .replace("/usr/local/bin/cellaudit", bin.to_str().unwrap());
    std::fs::write(dir.path().join("cellaudit.service"), service).unwrap();
    std::fs::write(
        dir.path().join("cellaudit.timer"),
        contrib("systemd/cellaudit.timer"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.path().join("cellaudit.service"))
        .arg(dir.path().join("cellaudit.timer"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
