//! Output at a real terminal (issue 14): the binary runs under a pseudo-terminal made by util-linux
//! `script`, sized with `stty`, and no line it prints may be wider than the terminal at 80, 100, 120 and
//! 200 columns; colour is on there, off when piped or with NO_COLOR, forced by --color always or
//! CLICOLOR_FORCE, and never in JSON or Prometheus output.

mod common;

use common::cellaudit_env;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const WIDTHS: [usize; 4] = [80, 100, 120, 200];
const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];

/// The demo deployment, built once with `demo --keep`; its audit arguments.
fn deployment() -> &'static (tempfile::TempDir, Vec<String>) {
    static D: OnceLock<(tempfile::TempDir, Vec<String>)> = OnceLock::new();
    D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = cellaudit_env(
            &[
                "demo".to_string(),
                "--format".into(),
                "json".into(),
                "--keep".into(),
                dir.path().display().to_string(),
            ],
            &[],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        let mut args = Vec::new();
        for c in CELLS {
            let url = format!("sqlite://{}/{c}.sqlite", dir.path().display());
            if c == "api" {
                args.extend([
                    "--parent".to_string(),
                    url,
                    "--parent-name".into(),
                    "api".into(),
                ]);
            } else {
                args.extend(["--child".to_string(), format!("{c}={url}")]);
            }
        }
        args.extend(["--as-of".to_string(), "2019-10-01 12:00:00".into()]);
        (dir, args)
    })
}

fn script() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/script");
    if p.exists() {
        return Some(p);
    }
    eprintln!(
        "\n!!!!!!!!\n!!! SKIPPED: no util-linux `script` to run cellaudit under a pseudo-terminal\n!!!!!!!!\n"
    );
    None
}

fn quote(a: &str) -> String {
    format!("'{}'", a.replace('\'', "'\\''"))
}

/// Runs cellaudit with `args` on a pseudo-terminal `cols` wide; stdout and stderr as the terminal got
/// them, with the terminal's CR of each line break removed.
fn on_tty(args: &[String], cols: usize, env: &[(&str, &str)]) -> Option<String> {
    let script = script()?;
    let bin = assert_cmd::cargo::cargo_bin("cellaudit");
    let line = std::iter::once(bin.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(script);
    cmd.args([
        "-qec",
        &format!("stty cols {cols} rows 50; exec {line}"),
        "/dev/null",
    ])
    .env_remove("COLUMNS")
    .env_remove("NO_COLOR")
    .env_remove("CLICOLOR_FORCE")
    .env_remove("CELLAUDIT_CONFIG")
    .env("TERM", "xterm-256color")
    .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\x1b' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn assert_fits(what: &str, text: &str, cols: usize) {
    for l in strip_ansi(text).lines() {
        assert!(
            l.chars().count() <= cols,
            "{what}: a line wider than {cols} columns ({}):\n{l}",
            l.chars().count()
        );
    }
}

fn audit_args(extra: &[&str]) -> Vec<String> {
    // -q: no progress spinner, whose redrawn line on stderr shares the terminal.
    let mut a = vec!["audit".to_string(), "-q".into()];
    a.extend(deployment().1.iter().cloned());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn the_audit_fits_the_terminal_at_every_width_and_is_coloured_there() {
    for cols in WIDTHS {
        let Some(out) = on_tty(&audit_args(&[]), cols, &[]) else {
            return;
        };
        assert!(out.contains("FAILURES (25)"), "{cols}: {out}");
        assert_fits("audit", &out, cols);
        assert!(
            out.contains("\x1b[1;31mFAILURE\x1b[0m"),
            "no colour at {cols}: {out}"
        );
        let plain = strip_ansi(&out);
        if cols >= 200 {
            assert!(plain.contains("│ cell   │ check / kind"), "{cols}: {plain}");
        } else {
            assert!(
                plain.contains(
                    "\nFAILURE child2 aggregates/missing_in_child aggregate=az-west-agg\n"
                ),
                "{cols}: {plain}"
            );
        }
        // The drift is highlighted: removed red, added green.
        assert!(
            out.contains("\x1b[31m[-e-]\x1b[0m\x1b[32m{+E+}\x1b[0m"),
            "{out}"
        );
        assert!(plain.trim_end().lines().any(|l| l.starts_with("Next: ")));
    }
}

#[test]
fn the_demo_fits_the_terminal() {
    for cols in [80, 100] {
        let Some(out) = on_tty(&["demo".to_string()], cols, &[]) else {
            return;
        };
        assert_fits("demo", &out, cols);
        assert!(
            strip_ansi(&out).contains("Result: FAILURE (25 failures"),
            "{out}"
        );
    }
}

#[test]
fn explain_fits_the_terminal_at_every_width() {
    let subjects = [
        ("aggregate", "az-east-agg"),
        ("host", "cmp-13"),
        ("instance", "e1000000-0000-4000-8000-000000000017"),
    ];
    for cols in WIDTHS {
        for (what, id) in subjects {
            let mut a = vec!["explain".to_string(), what.into(), id.into()];
            a.extend(deployment().1.iter().cloned());
            let Some(out) = on_tty(&a, cols, &[]) else {
                return;
            };
            assert!(out.contains("VERDICT"), "{what} at {cols}: {out}");
            assert_fits(&format!("explain {what}"), &out, cols);
        }
    }
}

#[test]
fn colour_follows_the_terminal_no_color_and_the_flag() {
    let Some(tty_no_color) = on_tty(&audit_args(&[]), 100, &[("NO_COLOR", "1")]) else {
        return;
    };
    assert!(!tty_no_color.contains('\x1b'), "NO_COLOR ignored");
    let never = on_tty(&audit_args(&["--color", "never"]), 100, &[]).unwrap();
    assert!(!never.contains('\x1b'));
    let json = on_tty(
        &audit_args(&["--format", "json", "--color", "always"]),
        100,
        &[],
    )
    .unwrap();
    assert!(!json.contains('\x1b'), "colour in JSON");
    let prom = on_tty(&audit_args(&["--format", "prometheus"]), 100, &[]).unwrap();
    assert!(!prom.contains('\x1b'), "colour in Prometheus output");

    let piped = cellaudit_env(&audit_args(&[]), &[]);
    assert!(!piped.stdout.contains('\x1b'), "colour when piped");
    let forced = cellaudit_env(&audit_args(&["--color", "always"]), &[("NO_COLOR", "1")]);
    assert!(forced.stdout.contains("\x1b[1;31m"), "--color always");
    let clicolor = cellaudit_env(&audit_args(&[]), &[("CLICOLOR_FORCE", "1")]);
    assert!(clicolor.stdout.contains("\x1b[1;31m"), "CLICOLOR_FORCE");
    // Colour never changes the layout: stripped, it is the piped text.
    assert_eq!(strip_ansi(&forced.stdout), piped.stdout);
}

#[test]
fn piped_output_is_100_columns_unless_columns_says_otherwise() {
    let piped = cellaudit_env(&audit_args(&[]), &[]);
    assert_fits("piped", &piped.stdout, 100);
    assert!(piped.stdout.lines().any(|l| l.chars().count() > 90));
    let wide = cellaudit_env(&audit_args(&[]), &[("COLUMNS", "200")]);
    assert!(wide.stdout.contains("│ cell   │ check / kind"));
    assert_fits("COLUMNS=200", &wide.stdout, 200);
}
