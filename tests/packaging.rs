//! Packaging: completion scripts and man pages generated from the clap definitions, `--version`
//! with the git revision, and where the configuration file is found.

mod common;

use cellaudit::config::config_path;
use clap::CommandFactory as _;
use common::cellaudit_env;
use std::path::{Path, PathBuf};

/// Every visible subcommand, read from the same clap definitions the binary uses.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = cellaudit::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    for must in ["audit", "demo", "checks", "completions", "man"] {
        assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
    }
    names
}

#[test]
fn completion_scripts_name_every_subcommand() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = cellaudit_env(&["completions", shell], &[]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.len() > 500, "{shell}: {}", run.stdout);
        for n in &names {
            assert!(run.stdout.contains(n.as_str()), "{shell} lacks {n}");
        }
        assert!(run.stdout.contains("output"), "{shell} lacks --output");
        // elvish and powershell complete option names only; the others also complete values.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(
                run.stdout.contains("prometheus"),
                "{shell} lacks --format values"
            );
        }
    }
    assert_ne!(cellaudit_env(&["completions", "tcsh"], &[]).code, 0);
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let run = cellaudit_env(&["completions", "bash"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cellaudit.bash");
    std::fs::write(&file, &run.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash is on every CI machine");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn man_page_lists_every_subcommand() {
    let run = cellaudit_env(&["man"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(run.stdout.contains(".TH cellaudit 1"), "{}", run.stdout);
    assert!(run.stdout.contains(".SH SUBCOMMANDS"));
    for n in subcommands() {
        // roff writes every '-' as '\-'.
        assert!(
            run.stdout
                .contains(&format!("cellaudit\\-{}(1)", n.replace('-', "\\-"))),
            "man page lacks {n}"
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    assert!(run.stdout.contains(version));
}

#[test]
fn man_dir_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let run = cellaudit_env(&["man", "--dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut want: Vec<PathBuf> = subcommands()
        .iter()
        .map(|n| dir.path().join(format!("cellaudit-{n}.1")))
        .collect();
    want.push(dir.path().join("cellaudit.1"));
    want.sort();
    let listed: Vec<PathBuf> = run.stdout.lines().map(PathBuf::from).collect();
    assert_eq!(listed, want);
    let audit = std::fs::read_to_string(dir.path().join("cellaudit-audit.1")).unwrap();
    for flag in [
        "\\-\\-format",
        "\\-\\-output",
        "\\-\\-quiet",
        "\\-\\-config",
    ] {
        assert!(audit.contains(flag), "cellaudit-audit.1 lacks {flag}");
    }
}

#[test]
fn version_names_the_git_revision() {
    let run = cellaudit_env(&["--version"], &[]);
    assert_eq!(run.code, 0);
    let line = run.stdout.trim();
    let pkg = env!("CARGO_PKG_VERSION");
    let root = env!("CARGO_MANIFEST_DIR");
    let in_git = std::process::Command::new("git")
        .args(["-C", root, "rev-parse", "--git-dir"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !in_git {
        assert_eq!(line, format!("cellaudit {pkg}"));
        return;
    }
    let rev = line
        .strip_prefix(&format!("cellaudit {pkg} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line}"));
    assert!(
        rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit()),
        "{rev}"
    );
    // The build may be a few commits behind HEAD; the revision must still be a commit of this repository.
    let known = std::process::Command::new("git")
        .args(["-C", root, "cat-file", "-e", &format!("{rev}^{{commit}}")])
        .status()
        .unwrap();
    assert!(known.success(), "{rev} is not a commit here");
}

#[test]
fn config_file_discovery_order() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("cellaudit.toml");
    let flag = Path::new("/from/flag.toml");
    let env = || Some(std::ffi::OsString::from("/from/env.toml"));
    // --config wins over everything.
    assert_eq!(
        config_path(Some(flag), env(), &system, true),
        Some(flag.to_path_buf())
    );
    // Then $CELLAUDIT_CONFIG, topology flags or not.
    assert_eq!(
        config_path(None, env(), &system, true),
        Some(PathBuf::from("/from/env.toml"))
    );
    assert_eq!(
        config_path(None, Some("".into()), &system, false),
        None,
        "an empty variable is unset"
    );
    // The system file only when it exists and no database is named on the command line.
    assert_eq!(config_path(None, None, &system, false), None);
    std::fs::write(&system, "").unwrap();
    assert_eq!(
        config_path(None, None, &system, false),
        Some(system.clone())
    );
    assert_eq!(config_path(None, None, &system, true), None);
}

fn sqlite_fixture(dir: &Path, cell: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let file = if cell == "api" { "parent" } else { cell };
    common::sqlite_db(
        dir,
        &format!("{cell}.sqlite"),
        &[
            &root.join("fixtures/schema/main.sqlite.sql"),
            &root.join(format!("fixtures/v1/{file}.sql")),
        ],
    )
}

#[test]
fn cellaudit_config_variable_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let api = sqlite_fixture(dir.path(), "api");
    let child1 = sqlite_fixture(dir.path(), "child1");
    let toml = dir.path().join("cellaudit.toml");
    std::fs::write(
        &toml,
        format!("[parent]\nname = \"api\"\nurl = \"{api}\"\n\n[[child]]\nname = \"child1\"\nurl = \"{child1}\"\n"),
    )
    .unwrap();
    let args = ["audit", "--check", "cell_registry", "--format", "json"];
    let run = cellaudit_env(&args, &[("CELLAUDIT_CONFIG", toml.to_str().unwrap())]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    let cells: Vec<&str> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cells, ["api", "child1"]);
    assert_eq!(doc["cells"][1]["status"], "ok");

    let missing = dir.path().join("missing.toml");
    let run = cellaudit_env(&args, &[("CELLAUDIT_CONFIG", missing.to_str().unwrap())]);
    assert_eq!(run.code, 255);
    assert!(
        run.stderr
            .contains(&format!("cannot read config {}", missing.display())),
        "{}",
        run.stderr
    );
}
