//! Every numeric option has a documented range: out-of-range values, from a flag or the config file,
//! are one clear line and exit 255, never a panic (exit 101) or a crashed driver thread.

mod common;

use common::{cellaudit, sqlite_cell, v1_fixtures};

fn deployment(dir: &std::path::Path) -> (String, String) {
    (
        sqlite_cell(dir, "api", &v1_fixtures("api", &[""])),
        sqlite_cell(dir, "child1", &v1_fixtures("child1", &[""])),
    )
}

fn one_line_255(args: &[String], want: &str) {
    let run = cellaudit(args);
    assert_eq!(run.code, 255, "{args:?}\n{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
    assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn out_of_range_flags_are_one_line_and_255() {
    let dir = tempfile::tempdir().unwrap();
    let (parent, child) = deployment(dir.path());
    let base = |flag: &str, v: &str| -> Vec<String> {
        vec![
            "audit".into(),
            "--parent".into(),
            parent.clone(),
            "--child".into(),
            format!("child1={child}"),
            flag.into(),
            v.into(),
        ]
    };
    for (flag, v, range) in [
        (
            "--connect-timeout",
            "18446744073709551615",
            "from 1 to 86400",
        ),
        (
            "--connect-timeout",
            "18446744073709551616",
            "from 1 to 86400",
        ),
        ("--connect-timeout", "2147484", "from 1 to 86400"),
        ("--connect-timeout", "0", "from 1 to 86400"),
        ("--connect-timeout", "-5", "from 1 to 86400"),
        (
            "--statement-timeout",
            "9223372036854775807",
            "from 1 to 604800",
        ),
        ("--statement-timeout", "ten", "from 1 to 604800"),
        ("--lag", "18446744073709551615", "from 0 to 315360000"),
        ("--lag", "-1", "from 0 to 315360000"),
        (
            "--jobs",
            "18446744073709551615",
            "at least 1 and at most 256",
        ),
        ("--jobs", "0", "at least 1 and at most 256"),
        (
            "--jobs-per-server",
            "2305843009213693952",
            "at least 1 and at most 256",
        ),
    ] {
        one_line_255(&base(flag, v), range);
    }
    // upgrade-check has its own copies of the timeouts.
    one_line_255(
        &[
            "upgrade-check".into(),
            "--api-db".into(),
            parent.clone(),
            "--connect-timeout".into(),
            "18446744073709551615".into(),
        ],
        "from 1 to 86400",
    );
}

#[test]
fn out_of_range_config_values_are_one_line_and_255() {
    let dir = tempfile::tempdir().unwrap();
    let (parent, child) = deployment(dir.path());
    for (key, v) in [
        ("connect_timeout", "9223372036854775807"),
        ("connect_timeout", "2147484"),
        ("connect_timeout", "0"),
        ("statement_timeout", "604801"),
        ("lag", "9223372036854775807"),
    ] {
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            format!(
                "{key} = {v}\n[parent]\nurl = \"{parent}\"\n[[child]]\nname = \"child1\"\nurl = \"{child}\"\n"
            ),
        )
        .unwrap();
        one_line_255(
            &[
                "audit".into(),
                "--config".into(),
                path.display().to_string(),
            ],
            &format!("{key} = {v} is out of range"),
        );
    }
}

#[test]
fn the_largest_allowed_values_work_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (parent, child) = deployment(dir.path());
    let run = cellaudit(&[
        "audit",
        "--parent",
        &parent,
        "--child",
        &format!("child1={child}"),
        "--connect-timeout",
        "86400",
        "--statement-timeout",
        "604800",
        "--lag",
        "315360000",
        "--format",
        "json",
    ]);
    assert!(
        run.code == 1 || run.code == 2,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("panicked"),
        "{}",
        run.stderr
    );
}
