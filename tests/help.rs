//! `--help` tells the truth (issue 14): the top level names every check family of cells v1 and v2, and
//! every command's help carries examples, as the man pages generated from the same definitions do.

mod common;

use clap::CommandFactory as _;
use common::cellaudit_env;

#[test]
fn top_level_help_names_every_check_of_both_cell_versions() {
    let run = cellaudit_env(&["--help"], &[]);
    assert_eq!(run.code, 0);
    let help = run.stdout;
    assert!(
        help.contains("Cells v1") && help.contains("Cells v2"),
        "{help}"
    );
    let all = cellaudit::checks::V1_CHECKS
        .iter()
        .chain(cellaudit::checks::OPT_IN_CHECKS)
        .map(|c| c.name)
        .chain(cellaudit::checks::v2::V2_CHECKS.iter().map(|c| c.name));
    for name in all {
        assert!(
            help.contains(name.as_str()),
            "--help does not name check {name}:\n{help}"
        );
    }
    assert!(help.contains("--color"), "{help}");
    let audit = cellaudit_env(&["audit", "--help"], &[]).stdout;
    assert!(
        audit.contains("cells v2 (--api-db or --nova-conf)"),
        "{audit}"
    );
    assert!(audit.contains("html"), "{audit}");
}

#[test]
fn every_command_has_examples_in_its_help_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let run = cellaudit_env(
        &[
            "man".to_string(),
            "--dir".into(),
            dir.path().display().to_string(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for sub in cellaudit::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        let help = cellaudit_env(&[name, "--help"], &[]).stdout;
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`{name} --help` has no examples:\n{help}"));
        let n = examples
            .lines()
            .take_while(|l| l.starts_with("  "))
            .filter(|l| l.trim_start().starts_with("cellaudit "))
            .count();
        assert!((2..=3).contains(&n), "`{name} --help` has {n} examples");
        let page = std::fs::read_to_string(dir.path().join(format!("cellaudit-{name}.1"))).unwrap();
        assert!(
            page.contains("Examples:"),
            "man page of {name} lacks the examples"
        );
    }
}
