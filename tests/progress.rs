//! Progress on stderr: shown only when stderr is a terminal (run under `script`, which gives the
//! audit a pseudo-terminal), never with `--quiet`, never in a pipe or a job log.

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn deployment(dir: &Path) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let schema = root.join("fixtures/schema/main.sqlite.sql");
    let mut args = vec!["audit".to_string()];
    for cell in ["api", "child1", "child2", "child3"] {
        let file = if cell == "api" { "parent" } else { cell };
        let rows = root.join(format!("fixtures/v1/{file}.sql"));
        let url = common::sqlite_db(dir, &format!("{cell}.sqlite"), &[&schema, &rows]);
        if cell == "api" {
            args.extend(["--parent".into(), url, "--parent-name".into(), "api".into()]);
        } else {
            args.extend(["--child".into(), format!("{cell}={url}")]);
        }
    }
    args.extend(["--check".into(), "cell_registry,aggregates".into()]);
    args
}

/// Runs cellaudit with a pseudo-terminal as stdin/stdout/stderr; returns what the terminal showed,
/// or `None` when util-linux `script` is missing.
fn on_a_terminal(args: &[String], dir: &Path) -> Option<String> {
    let bin = assert_cmd::cargo::cargo_bin("cellaudit");
    let quoted: Vec<String> = std::iter::once(bin.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let log = dir.join("terminal.log");
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &quoted.join(" ")])
        .arg(&log)
        .env_remove("CELLAUDIT_CONFIG")
        .output()
        .ok()?;
    assert!(
        out.status.code().is_some_and(|c| c == 2),
        "{out:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some(String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned())
}

#[test]
fn a_terminal_sees_the_stages_and_quiet_hides_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = deployment(dir.path());
    args.extend([
        "--format".into(),
        "json".into(),
        "--output".into(),
        dir.path().join("report.json").display().to_string(),
    ]);
    let Some(shown) = on_a_terminal(&args, dir.path()) else {
        eprintln!(
            "NOTE: util-linux `script` is not installed: the terminal part of this test did not run"
        );
        return;
    };
    // indicatif limits redraws to about 20 a second, so only the first stages are sure to be drawn.
    for stage in ["reading 4 databases (", "check 1/2: cell_registry"] {
        assert!(shown.contains(stage), "{stage} not in {shown:?}");
    }

    args.push("--quiet".into());
    let shown = on_a_terminal(&args, dir.path()).unwrap();
    assert!(!shown.contains("reading"), "{shown:?}");
    assert!(!shown.contains("check 1/2"), "{shown:?}");
}

#[test]
fn a_pipe_gets_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("cellaudit")
        .unwrap()
        .args(deployment(dir.path()))
        .env_remove("CELLAUDIT_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
