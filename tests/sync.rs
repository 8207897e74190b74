//! End-to-end tests of `cellaudit sync` on the cells v1 fixture deployment: dry run, apply, concurrent
//! change, a child killed mid-apply, undo; in a private MariaDB (and SQLite for apply + undo).

mod common;

use cellaudit::cli::{Cli, Command as Sub};
use cellaudit::config::SyncConfig;
use cellaudit::exit_codes;
use cellaudit::sync::{self, Confirm, Hooks};
use clap::Parser;
use common::{MariaDb, Run, cellaudit, db_name, v1_topology};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const CELLS: [&str; 4] = ["api", "child1", "child2", "child3"];
const SYNCED_TABLES: [&str; 5] = [
    "aggregates",
    "aggregate_metadata",
    "aggregate_hosts",
    "instance_types",
    "instance_type_extra_specs",
];

/// A cell's fixture files in load order: the base rows (aggregates), then flavors and hosts.
fn fixtures(cell: &str) -> Vec<PathBuf> {
    common::v1_fixtures(cell, &["", "flavors-", "hosts-"])
}

fn load_cell(server: &MariaDb, cell: &str) -> String {
    common::mariadb_cell(server, &format!("sync_{cell}"), &fixtures(cell))
}

/// A fresh copy of the fixture deployment: every test that writes gets its own databases.
fn deployment(server: &MariaDb) -> Vec<(String, String)> {
    CELLS
        .iter()
        .map(|c| (c.to_string(), load_cell(server, c)))
        .collect()
}

fn url_of<'a>(cells: &'a [(String, String)], name: &str) -> &'a str {
    &cells.iter().find(|(n, _)| n == name).unwrap().1
}

/// Every row of the tables sync may write, in id order: equal strings mean equal tables.
fn dump(server: &MariaDb, url: &str) -> String {
    SYNCED_TABLES
        .iter()
        .map(|t| {
            format!(
                "{t}:\n{}",
                server.query(url, &format!("SELECT * FROM {t} ORDER BY id"))
            )
        })
        .collect::<Vec<_>>()
        .join("")
}

/// `--apply --yes --journal-dir DIR`: an unattended apply whose journal lands in the test's directory.
fn apply_flags(jdir: &tempfile::TempDir) -> [String; 4] {
    [
        "--apply".into(),
        "--yes".into(),
        "--journal-dir".into(),
        jdir.path().display().to_string(),
    ]
}

fn dumps(server: &MariaDb, cells: &[(String, String)]) -> Vec<String> {
    cells.iter().map(|(_, u)| dump(server, u)).collect()
}

/// A sync configuration parsed from a command line, exactly as the binary parses it.
fn config(args: &[String]) -> SyncConfig {
    let mut argv = vec!["cellaudit".to_string(), "sync".to_string()];
    argv.extend(args.iter().cloned());
    match Cli::try_parse_from(argv).unwrap().command {
        Sub::Sync(a) => SyncConfig::from_args(a).unwrap(),
        _ => unreachable!(),
    }
}

async fn run_lib(args: &[String], hooks: &Hooks) -> (u8, String) {
    let cfg = config(args);
    let mut out = Vec::new();
    let code = sync::execute(&cfg, hooks, &mut out, Confirm::Yes).await;
    (code, String::from_utf8(out).unwrap())
}

fn sync_cli(cells: &[(String, String)], extra: &[&str]) -> Run {
    let mut args = vec!["sync".to_string()];
    args.extend(v1_topology(cells));
    args.extend(extra.iter().map(|s| s.to_string()));
    cellaudit(&args)
}

/// The findings of the checks sync fixes, as (cell, check, kind, key) from a JSON audit.
fn synced_findings(cells: &[(String, String)]) -> Vec<(String, String, String, String)> {
    let mut args = vec!["audit".to_string()];
    args.extend(v1_topology(cells));
    args.extend([
        "--check".into(),
        "aggregates,aggregate_metadata,aggregate_hosts,flavors".into(),
        "--ignore-flavor-access".into(),
        "--format".into(),
        "json".into(),
    ]);
    let run = cellaudit(&args);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key: Vec<String> = f["key"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect();
            (
                f["cell"].as_str().unwrap().to_string(),
                f["check"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                key.join(" "),
            )
        })
        .collect()
}

fn f(cell: &str, check: &str, kind: &str, key: &str) -> (String, String, String, String) {
    (cell.into(), check.into(), kind.into(), key.into())
}

/// What sync leaves reported after applying (without --fix-drift): what it never does, and what it refuses.
fn expected_after_apply() -> Vec<(String, String, String, String)> {
    vec![
        // The parent's own findings: sync writes children only.
        f(
            "api",
            "aggregate_hosts",
            "cell_path_mismatch",
            "aggregate=path-agg host=cmp-01",
        ),
        f(
            "api",
            "aggregate_hosts",
            "host_in_no_child",
            "aggregate=gpu-agg host=ghost-07",
        ),
        f(
            "child1",
            "aggregate_hosts",
            "extra_in_child",
            "aggregate=az-west-agg host=cmp-04",
        ),
        f(
            "child1",
            "aggregate_metadata",
            "extra_in_child",
            "aggregate=ssd-agg key=pinned",
        ),
        f(
            "child1",
            "aggregates",
            "deleted_in_parent",
            "aggregate=retired-agg",
        ),
        f("child1", "flavors", "deleted_in_parent", "flavor=old"),
        f("child1", "flavors", "id_collision", "flavor=rogue"),
        // 'rogue' holds x1-huge's id 8 in child1, so the copy got a new id (the plan warned).
        f("child1", "flavors", "id_differs", "flavor=x1-huge"),
        f("child1", "flavors", "only_in_child", "flavor=rogue"),
        f(
            "child1",
            "flavors",
            "spec_extra_in_child",
            "flavor=gpu-a100 key=HW:CPU_POLICY",
        ),
        // cmp-13 would be in two AZs (the parent itself puts it in az-east and az-north): refused both times.
        f(
            "child2",
            "aggregate_hosts",
            "missing_in_child",
            "aggregate=az-east-agg host=cmp-13",
        ),
        f(
            "child2",
            "aggregate_hosts",
            "missing_in_child",
            "aggregate=az-north-agg host=cmp-13",
        ),
        // Drift is only fixed with --fix-drift, and flavor sizes never.
        f(
            "child2",
            "aggregate_metadata",
            "value_differs",
            "aggregate=az-east-agg key=availability_zone",
        ),
        f("child2", "flavors", "only_in_child", "flavor=local-1"),
        f(
            "child2",
            "flavors",
            "spec_value_differs",
            "flavor=gpu-a100 key=hw:cpu_policy",
        ),
        f(
            "child2",
            "flavors",
            "value_differs",
            "field=memory_mb flavor=3",
        ),
        f(
            "child3",
            "aggregate_metadata",
            "value_differs",
            "aggregate=gpu-agg key=gpu",
        ),
        f(
            "child3",
            "aggregates",
            "only_in_child",
            "aggregate=local-only",
        ),
        f("child3", "aggregates", "uuid_differs", "aggregate=gpu-agg"),
        f("child3", "flavors", "id_differs", "flavor=4"),
        // child3's soft-deleted gpu-a100 keeps id 5, so the copy got a new id (the plan warned).
        f("child3", "flavors", "id_differs", "flavor=gpu-a100"),
    ]
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn journal_path(out: &str) -> PathBuf {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("Journal written: "))
        .unwrap_or_else(|| panic!("no journal line in:\n{out}"));
    PathBuf::from(line.trim())
}

fn journal(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn child_journal<'a>(j: &'a Value, cell: &str) -> &'a Value {
    j["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cell"] == cell)
        .unwrap_or_else(|| panic!("{cell} not in journal {j}"))
}

#[test]
fn dry_run_prints_the_plan_as_sql_and_changes_nothing() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let before = dumps(server, &cells);
    let run = sync_cli(&cells, &[]);
    assert_eq!(
        run.code,
        exit_codes::SYNC_PLANNED as i32,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(dumps(server, &cells), before, "a dry run changed a table");

    let stamp = run
        .stdout
        .lines()
        .next()
        .and_then(|l| l.split("rows are stamped ").nth(1))
        .and_then(|l| l.strip_suffix(" UTC"))
        .unwrap()
        .to_string();
    let out = &run.stdout.replace(&stamp, "NOW");
    for line in [
        "START TRANSACTION;",
        "-- fixes aggregates/missing_in_child aggregate=az-west-agg: insert aggregate 'az-west-agg' (AZ 'az-west')",
        "SELECT id, name, uuid FROM aggregates WHERE (name = 'az-west-agg' OR uuid = '0a000000-0000-4000-8000-000000000010') AND deleted = 0 FOR UPDATE;  -- re-check, must find no row",
        "INSERT INTO aggregates (created_at, updated_at, deleted_at, name, uuid, deleted) VALUES ('2019-03-02 10:00:00', NULL, NULL, 'az-west-agg', '0a000000-0000-4000-8000-000000000010', 0);",
        "--   @new2 below is the id this row gets (LAST_INSERT_ID())",
        "SELECT id, host FROM services WHERE host = 'cmp-11' AND `binary` = 'nova-compute' AND deleted = 0 FOR UPDATE;  -- re-check, must find a row",
        "--   aggregate_metadata/value_differs aggregate=az-east-agg key=availability_zone: drift: 'az-East' in child2, 'az-east' in the parent; --fix-drift updates it",
        "--   aggregate_hosts/missing_in_child aggregate=az-east-agg host=cmp-13: host 'cmp-13' would be in AZ 'az-East' (az-east-agg) and AZ 'az-north' (az-north-agg) in child2; Nova forbids a host in two availability zones",
        "-- parent members not added here, as they do not live in child2: cmp-01 (az-west-agg): lives in child1; cmp-02 (az-west-agg): lives in child1",
        "-- WARNING: id 8 is taken in child1 by flavor 'rogue', so the copy gets a new id: cells v1 copies instances.instance_type_id up unchanged, and instances of 'x1.huge' built in child1 will show at the top as another flavor until the ids agree",
        "INSERT INTO instance_type_extra_specs (created_at, updated_at, deleted_at, instance_type_id, `key`, value, deleted) VALUES ('NOW', NULL, NULL, 5, 'hw:cpu_policy', 'dedicated', 0);",
        "  child1  1 insert into instance_types, 1 insert into instance_type_extra_specs",
        "  child2  2 inserts into aggregates, 2 inserts into aggregate_metadata, 1 insert into aggregate_hosts, 4 not done (see below)",
        "  child3  1 insert into aggregates, 1 insert into aggregate_metadata, 1 insert into aggregate_hosts, 1 insert into instance_types, 2 inserts into instance_type_extra_specs, 1 not done (see below)",
        "13 statements planned; nothing was changed. Run again with --apply to execute them.",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing line {line:?} in:\n{out}"
        );
    }
    // The copied host row uses the child's new aggregate id, never the parent's (10).
    assert!(
        out.contains("VALUES (") && out.contains("'cmp-11', @new2, 0);"),
        "{out}"
    );

    // --cell narrows the plan; --fix-drift shows the update with the old and the new value.
    let run = sync_cli(&cells, &["--cell", "child2", "--fix-drift"]);
    assert_eq!(run.code, exit_codes::SYNC_PLANNED as i32);
    assert!(!run.stdout.contains("== child3"), "{}", run.stdout);
    assert!(run.stdout.contains("-- update availability_zone of aggregate 'az-east-agg': 'az-East' -> 'az-east': old 'az-East', new 'az-east'"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("UPDATE aggregate_metadata SET value = 'az-east', updated_at = '"),
        "{}",
        run.stdout
    );
    assert_eq!(dumps(server, &cells), before, "a dry run changed a table");
}

#[test]
fn apply_without_yes_and_without_a_terminal_refuses_and_changes_nothing() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let before = dumps(server, &cells);
    let run = sync_cli(&cells, &["--apply"]);
    assert_eq!(run.code, exit_codes::SYNC_REFUSED as i32, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Refusing to change anything: standard input is not a terminal"),
        "{}",
        run.stdout
    );
    assert_eq!(dumps(server, &cells), before);
}

#[test]
fn bad_sync_options_are_configuration_errors() {
    let server = MariaDb::shared();
    let cells = vec![
        ("api".to_string(), server.url("nothing_here")),
        ("child1".to_string(), server.url("nothing_here")),
    ];
    let run = sync_cli(&cells, &["--cell", "child9"]);
    assert_eq!(run.code, exit_codes::AUDIT_ERROR as i32);
    assert!(
        run.stderr
            .contains("--cell child9: no such child (configured: child1)"),
        "{}",
        run.stderr
    );
    let run = sync_cli(&cells, &["--check", "cell_registry"]);
    assert_eq!(run.code, exit_codes::AUDIT_ERROR as i32);
    assert!(
        run.stderr.contains("sync cannot fix check 'cell_registry'"),
        "{}",
        run.stderr
    );
    let run = sync_cli(&cells, &["--undo", "x.json", "--apply"]);
    assert_eq!(run.code, exit_codes::AUDIT_ERROR as i32, "{}", run.stderr);
}

#[test]
fn passwords_never_appear_in_sync_output() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nothing.sock");
    let cells = vec![
        (
            "api".to_string(),
            format!(
                "mysql://nova:SECRETPW1@localhost/nova?socket={}",
                sock.display()
            ),
        ),
        (
            "child1".to_string(),
            format!(
                "mysql://nova:SECRETPW2@localhost/nova?socket={}",
                sock.display()
            ),
        ),
    ];
    let run = sync_cli(&cells, &["--connect-timeout", "2"]);
    assert_eq!(
        run.code,
        exit_codes::AUDIT_ERROR as i32,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stdout.contains("SECRETPW") && !run.stderr.contains("SECRETPW"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_fixes_the_missing_rows_remaps_ids_and_a_second_apply_is_a_no_op() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let jdir = tempfile::tempdir().unwrap();
    let parent_before = dump(server, url_of(&cells, "api"));

    let mut args = v1_topology(&cells);
    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(
        out.contains("\nRe-audit: all 6 findings this run fixed are gone.\n"),
        "{out}"
    );
    assert!(out.contains("nova-scheduler in child2 and child3"), "{out}");

    assert_eq!(
        sorted(synced_findings(&cells)),
        sorted(expected_after_apply())
    );
    // Nothing changes in the parent.
    assert_eq!(dump(server, url_of(&cells, "api")), parent_before);

    // The copy keeps the parent's uuid and name, and its metadata and hosts hang off the child's own id.
    let c2 = url_of(&cells, "child2");
    assert_eq!(
        server.query(
            c2,
            "SELECT a.name, a.uuid, a.created_at, m.`key`, m.value, h.host, a.id = m.aggregate_id AND a.id = h.aggregate_id
             FROM aggregates a JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.deleted = 0
             JOIN aggregate_hosts h ON h.aggregate_id = a.id AND h.deleted = 0
             WHERE a.name = 'az-west-agg' AND a.deleted = 0"
        ),
        "az-west-agg\t0a000000-0000-4000-8000-000000000010\t2019-03-02 10:00:00\tavailability_zone\taz-west\tcmp-11\t1\n"
    );
    assert_eq!(
        server.query(c2, "SELECT COUNT(*) FROM aggregate_hosts WHERE host IN ('cmp-01', 'cmp-02') AND deleted = 0"),
        "0\n",
        "hosts that live in child1 were added to child2"
    );

    // child3's soft-deleted gpu-a100 holds id 5: the copy has a new id, and its specs hang off that one.
    assert_eq!(
        server.query(
            url_of(&cells, "child3"),
            "SELECT t.id <> 5, t.name, s.`key`, s.value FROM instance_types t
             JOIN instance_type_extra_specs s ON s.instance_type_id = t.id AND s.deleted = 0
             WHERE t.flavorid = 'gpu-a100' AND t.deleted = 0 ORDER BY s.`key`"
        ),
        "1\tgpu.a100\thw:cpu_policy\tdedicated\n1\tgpu.a100\tresources:VGPU\t1\n"
    );

    let j = journal(&journal_path(&out));
    assert_eq!(child_journal(&j, "child2")["status"], "committed");
    assert_eq!(
        child_journal(&j, "child2")["entries"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(child_journal(&j, "child3")["status"], "committed");
    // One code path: each statement the journal records as executed was printed, as is, in the plan
    // (statements that use a new id print it as @newN there, so those are compared up to that id).
    for c in ["child1", "child2", "child3"] {
        for e in child_journal(&j, c)["entries"].as_array().unwrap() {
            let sql = e["sql"].as_str().unwrap();
            let id_free = sql.starts_with("INSERT INTO aggregates ")
                || sql.starts_with("INSERT INTO instance_types ");
            if id_free {
                assert!(
                    out.contains(&format!("\n{sql};\n")),
                    "{sql} not in the plan:\n{out}"
                );
            } else {
                let head = sql.split(" VALUES (").next().unwrap();
                assert!(
                    out.contains(&format!("\n{head} VALUES (")),
                    "{sql} not in the plan:\n{out}"
                );
            }
        }
    }

    let after = dumps(server, &cells);
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(out.contains("\nNothing to apply.\n"), "{out}");
    assert!(!out.contains("Journal"), "{out}");
    assert_eq!(
        dumps(server, &cells),
        after,
        "a second apply changed something"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flavor_keeps_the_parent_id_when_it_is_free_and_undo_removes_it() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let c1 = url_of(&cells, "child1").to_string();
    // Without 'rogue', id 8 is free in child1 for x1-huge.
    server.exec(&c1, "DELETE FROM instance_types WHERE flavorid = 'rogue'");
    let before = dump(server, &c1);
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend([
        "--cell".into(),
        "child1".into(),
        "--check".into(),
        "flavors".into(),
    ]);
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_PLANNED, "{out}");
    assert!(out.contains("-- fixes flavors/missing_in_child flavor=x1-huge: insert flavor 'x1.huge' (flavorid x1-huge) with the parent's id 8\n"), "{out}");
    assert!(out.contains("SELECT id, flavorid, deleted FROM instance_types WHERE id = 8 FOR UPDATE;  -- re-check, must find no row\n"), "{out}");
    assert!(!out.contains("WARNING"), "{out}");
    assert!(!out.contains("== child2"), "{out}");

    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(
        out.contains("\nRe-audit: all 2 findings this run fixed are gone.\n"),
        "{out}"
    );
    assert!(out.contains("can use the copied flavors at once"), "{out}");
    assert!(!out.contains("nova-scheduler"), "{out}");
    assert_eq!(
        server.query(
            &c1,
            "SELECT id, name, memory_mb FROM instance_types WHERE flavorid = 'x1-huge'"
        ),
        "8\tx1.huge\t131072\n"
    );
    let mut undo = v1_topology(&cells);
    undo.extend([
        "--undo".into(),
        journal_path(&out).display().to_string(),
        "--yes".into(),
    ]);
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(
        out.contains("DELETE FROM instance_types WHERE id = 8;"),
        "{out}"
    );
    assert_eq!(dump(server, &c1), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_insert_between_plan_and_apply_rolls_the_child_back() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let jdir = tempfile::tempdir().unwrap();
    let c2 = url_of(&cells, "child2").to_string();
    let c3_before = dump(server, url_of(&cells, "child3"));
    let mut args = v1_topology(&cells);
    args.extend(apply_flags(&jdir));

    let target = c2.clone();
    let hooks = Hooks {
        before_child: Some(Box::new(move |cell| {
            if cell == "child2" {
                // Someone creates az-west-agg in child2 through Nova after the plan was made.
                MariaDb::shared().exec(
                    &target,
                    "INSERT INTO aggregates (created_at, name, uuid, deleted) VALUES (NOW(), 'az-west-agg', 'ffffffff-0000-4000-8000-000000000001', 0)",
                );
            }
        })),
        after_step: None,
    };
    let injected = {
        let (code, out) = run_lib(&args, &hooks).await;
        assert_eq!(code, exit_codes::SYNC_ROLLED_BACK, "{out}");
        assert!(out.contains("child2: ROLLED BACK: child2 changed since the plan was made: it assumed child2 has no live aggregate named 'az-west-agg' or with uuid 0a000000-0000-4000-8000-000000000010, but `SELECT id, name, uuid FROM aggregates WHERE (name = 'az-west-agg' OR uuid = '0a000000-0000-4000-8000-000000000010') AND deleted = 0 FOR UPDATE` found 1 row"), "{out}");
        assert!(
            out.contains("rolled back, nothing was changed in child2"),
            "{out}"
        );
        assert!(out.contains("child3: not attempted"), "{out}");
        out
    };
    // az-north-agg was inserted before the conflicting step, in the same transaction: it must be gone.
    assert_eq!(
        server.query(
            &c2,
            "SELECT name, uuid FROM aggregates WHERE deleted = 0 ORDER BY id"
        ),
        "az-east-agg\t0a000000-0000-4000-8000-000000000011\ndual-agg\t0a000000-0000-4000-8000-000000000016\naz-west-agg\tffffffff-0000-4000-8000-000000000001\n"
    );
    assert_eq!(
        server.query(&c2, "SELECT COUNT(*) FROM aggregate_metadata"),
        "1\n"
    );
    assert_eq!(dump(server, url_of(&cells, "child3")), c3_before);
    let j = journal(&journal_path(&injected));
    assert_eq!(child_journal(&j, "child2")["status"], "rolled_back");
    assert_eq!(
        child_journal(&j, "child2")["entries"],
        serde_json::json!([])
    );
    assert_eq!(child_journal(&j, "child3")["status"], "not_attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_server_killed_mid_apply_leaves_nothing_committed_and_the_journal_says_so() {
    let shared = MariaDb::shared();
    let mut cells = deployment(shared);
    // child2 gets a server of its own, to kill.
    let private = MariaDb::start_private();
    let c2 = load_cell(&private, "child2");
    cells.iter_mut().find(|(n, _)| n == "child2").unwrap().1 = c2;
    let c3_before = dump(shared, url_of(&cells, "child3"));
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend(apply_flags(&jdir));

    let victim = Arc::new(Mutex::new(Some(private)));
    let v = victim.clone();
    let hooks = Hooks {
        before_child: None,
        after_step: Some(Box::new(move |cell, step| {
            if cell == "child2"
                && step == 1
                && let Some(server) = v.lock().unwrap().as_mut()
            {
                server.kill();
            }
        })),
    };
    let (code, out) = run_lib(&args, &hooks).await;
    assert_eq!(code, exit_codes::SYNC_ROLLED_BACK, "{out}");
    assert!(out.contains("child2: ROLLED BACK: "), "{out}");
    assert!(
        out.contains("rolled back, nothing was changed in child2"),
        "{out}"
    );
    let j = journal(&journal_path(&out));
    let c2j = child_journal(&j, "child2");
    assert_eq!(c2j["status"], "rolled_back", "{j}");
    assert_eq!(c2j["entries"], serde_json::json!([]));
    assert!(
        c2j["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed in child2"),
        "{j}"
    );
    assert_eq!(child_journal(&j, "child3")["status"], "not_attempted");
    assert_eq!(dump(shared, url_of(&cells, "child3")), c3_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_apply_leaves_the_child_exactly_as_it_was() {
    // The same failure as a killed server, but the server survives to show the child is unchanged.
    // KILL CONNECTION runs on a server of this test's own, so nothing it does can reach the other tests' server.
    let server = Arc::new(MariaDb::start_private());
    let cells = deployment(&server);
    let before = dumps(&server, &cells);
    let child2 = CELLS.iter().position(|c| *c == "child2").unwrap();
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend(apply_flags(&jdir));
    let db = db_name(url_of(&cells, "child2"));
    let killer = server.clone();
    let hooks = Hooks {
        before_child: None,
        after_step: Some(Box::new(move |cell, step| {
            if cell == "child2" && step == 3 {
                let s = &killer;
                let ids = s.query(
                    "mysql",
                    &format!("SELECT id FROM information_schema.PROCESSLIST WHERE db = '{db}' AND id <> CONNECTION_ID()"),
                );
                for id in ids.lines() {
                    s.exec("mysql", &format!("KILL CONNECTION {id}"));
                }
            }
        })),
    };
    let (code, out) = run_lib(&args, &hooks).await;
    assert_eq!(code, exit_codes::SYNC_ROLLED_BACK, "{out}");
    assert_eq!(
        dumps(&server, &cells)[child2..],
        before[child2..],
        "a lost connection left rows behind:\n{out}"
    );
    let j = journal(&journal_path(&out));
    assert_eq!(child_journal(&j, "child2")["status"], "rolled_back");
    // child1 came first and committed; child3 was not attempted.
    assert_eq!(child_journal(&j, "child1")["status"], "committed");
    assert_eq!(child_journal(&j, "child3")["status"], "not_attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_restores_the_tables_exactly_and_refuses_once_rows_changed() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let before = dumps(server, &cells);
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend([
        "--apply".into(),
        "--yes".into(),
        "--fix-drift".into(),
        "--journal-dir".into(),
        jdir.path().display().to_string(),
    ]);
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(
        out.contains("\nRe-audit: all 9 findings this run fixed are gone.\n"),
        "{out}"
    );
    let path = journal_path(&out);
    let applied = dumps(server, &cells);
    assert_ne!(applied, before);

    // Someone edits a row the run wrote: undo must refuse and change nothing.
    let c3 = url_of(&cells, "child3");
    server.exec(
        c3,
        "UPDATE aggregate_metadata SET value = 'false' WHERE `key` = 'ssd'",
    );
    let mut undo = v1_topology(&cells);
    undo.extend(["--undo".into(), path.display().to_string(), "--yes".into()]);
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_REFUSED, "{out}");
    assert!(out.contains("child3: aggregate_metadata row id "), "{out}");
    assert!(
        out.contains("changed since the sync wrote it (value: \"true\" -> \"false\")"),
        "{out}"
    );
    assert!(out.contains("Nothing was changed."), "{out}");
    server.exec(
        c3,
        "UPDATE aggregate_metadata SET value = 'true' WHERE `key` = 'ssd'",
    );
    assert_eq!(dumps(server, &cells), applied);

    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(out.contains("child2: undone, 7 rows reversed"), "{out}");
    assert!(
        out.contains(
            "UPDATE aggregate_metadata SET value = 'az-East', updated_at = NULL WHERE id = 1;"
        ),
        "{out}"
    );
    assert_eq!(
        dumps(server, &cells),
        before,
        "undo did not restore the tables exactly"
    );

    // The journal records the undo: a second one has nothing left to do and changes nothing.
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert_eq!(
        out,
        "The journal records no committed rows left to undo (child1, child2 and child3 already undone): nothing to undo.\n"
    );
    assert_eq!(dumps(server, &cells), before);
}

#[tokio::test]
async fn sqlite_apply_then_undo_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let cells: Vec<(String, String)> = CELLS
        .iter()
        .map(|c| {
            (
                c.to_string(),
                common::sqlite_cell(dir.path(), c, &fixtures(c)),
            )
        })
        .collect();
    let children: Vec<&str> = cells
        .iter()
        .filter(|(n, _)| n != "api")
        .map(|(_, u)| u.as_str())
        .collect();
    let mut before = Vec::new();
    for u in &children {
        before.push(sqlite_dump(u).await);
    }
    let mut args = v1_topology(&cells);
    args.extend([
        "--apply".into(),
        "--yes".into(),
        "--fix-drift".into(),
        "--journal-dir".into(),
        dir.path().join("j").display().to_string(),
    ]);
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(out.contains("BEGIN IMMEDIATE;"), "{out}");
    assert!(
        out.contains("\nRe-audit: all 9 findings this run fixed are gone.\n"),
        "{out}"
    );
    let mut undo = v1_topology(&cells);
    undo.extend([
        "--undo".into(),
        journal_path(&out).display().to_string(),
        "--yes".into(),
    ]);
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(out.contains("BEGIN IMMEDIATE;"), "{out}");
    for c in ["child1", "child2", "child3"] {
        let shown = preview_writes(&out, c);
        assert!(!shown.is_empty(), "{c}: {out}");
        assert_eq!(shown, undone_statements(&out, c), "{c}:\n{out}");
    }
    for (u, b) in children.iter().zip(&before) {
        assert_eq!(&sqlite_dump(u).await, b, "undo did not restore {u}");
    }

    // An undo whose COMMIT answer was lost leaves the journal saying `committed` with the rows
    // already reversed: the next undo finds them as before the run and records the child undone.
    use cellaudit::sync::journal;
    let path = PathBuf::from(&undo[undo.iter().position(|a| a == "--undo").unwrap() + 1]);
    let mut j = journal::read(&path).unwrap();
    for c in &mut j.children {
        if c.status == journal::ChildStatus::Undone {
            c.status = journal::ChildStatus::CommitUnknown;
        }
    }
    j.checksum = journal::checksum(&j);
    write_journal(&path, &j);
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    for c in ["child1", "child2", "child3"] {
        assert!(
            out.contains(&format!(
                "{c}: nothing to reverse: every row is already as it was before the run"
            )),
            "{out}"
        );
    }
    assert!(
        journal::read(&path)
            .unwrap()
            .children
            .iter()
            .all(|c| c.status == journal::ChildStatus::Undone)
    );
    for (u, b) in children.iter().zip(&before) {
        assert_eq!(&sqlite_dump(u).await, b, "{u} changed");
    }
}

/// Every row of the tables sync writes, as JSON text, read through SQLite itself.
async fn sqlite_dump(url: &str) -> String {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let mut out = String::new();
    for (t, sql) in [
        (
            "aggregates",
            "SELECT json_group_array(json_array(id, created_at, updated_at, deleted_at, name, uuid, deleted)) FROM (SELECT * FROM aggregates ORDER BY id)",
        ),
        (
            "aggregate_metadata",
            "SELECT json_group_array(json_array(id, created_at, updated_at, deleted_at, aggregate_id, key, value, deleted)) FROM (SELECT * FROM aggregate_metadata ORDER BY id)",
        ),
        (
            "aggregate_hosts",
            "SELECT json_group_array(json_array(id, created_at, updated_at, deleted_at, host, aggregate_id, deleted)) FROM (SELECT * FROM aggregate_hosts ORDER BY id)",
        ),
        (
            "instance_types",
            "SELECT json_group_array(json_array(id, created_at, updated_at, deleted_at, name, memory_mb, vcpus, swap, vcpu_weight, flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted)) FROM (SELECT * FROM instance_types ORDER BY id)",
        ),
        (
            "instance_type_extra_specs",
            "SELECT json_group_array(json_array(id, created_at, updated_at, deleted_at, instance_type_id, key, value, deleted)) FROM (SELECT * FROM instance_type_extra_specs ORDER BY id)",
        ),
    ] {
        let (rows,): (String,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
        out.push_str(&format!("{t}: {rows}\n"));
    }
    pool.close().await;
    out
}

/// The part of a dry run for one child, from its `-- == cell` line to the next child or the summary.
fn child_section(out: &str, cell: &str) -> String {
    let head = format!("-- == {cell} (");
    let start = out
        .find(&head)
        .unwrap_or_else(|| panic!("no section for {cell} in:\n{out}"));
    let rest = &out[start..];
    let end = rest[1..]
        .find("\n-- == ")
        .map(|i| i + 1)
        .or_else(|| rest.find("\nSUMMARY"))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

fn stamp_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split("rows are stamped ").nth(1))
        .and_then(|l| l.strip_suffix(" UTC"))
        .unwrap_or_else(|| panic!("no stamp in:\n{out}"))
        .to_string()
}

/// A parent aggregate name and metadata value that try to leave a literal or a comment: a newline
/// followed by SQL, a client command (`\!` runs a shell in the mariadb client), quotes, a
/// backslash (read differently with and without NO_BACKSLASH_ESCAPES), a terminal escape, non-ASCII.
fn hostile_name(marker: &Path) -> String {
    format!(
        "\x01x\nDROP TABLE victim; -- \n\\! touch {}\n' \" \\' \\\\ \x1b[2J é",
        marker.display()
    )
}

#[test]
fn the_printed_mariadb_script_gives_the_tables_apply_gives_in_both_sql_modes() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let name = hostile_name(&marker);
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
    let api = url_of(&cells, "api");
    server.exec(
        api,
        &format!(
            "UPDATE aggregates SET name = X'{}', uuid = '0a000000-0000-4000-8000-0000000000ff' WHERE name = 'az-west-agg';
             INSERT INTO aggregate_metadata (created_at, aggregate_id, `key`, value, deleted)
             SELECT created_at, id, 'note', X'{}', 0 FROM aggregates WHERE uuid = '0a000000-0000-4000-8000-0000000000ff';",
            hex(&name),
            hex("a\\b'c\r\n\\0")
        ),
    );
    let children = ["child1", "child2", "child3"];
    for c in children {
        server.exec(url_of(&cells, c), "CREATE TABLE victim (id INT)");
    }
    let dry = sync_cli(&cells, &["--fix-drift"]);
    assert_eq!(dry.code, exit_codes::SYNC_PLANNED as i32, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("_utf8mb4 X'"),
        "the hostile name is not in the plan:\n{}",
        dry.stdout
    );
    // Data never starts a line: every line is a comment, a statement, or the summary.
    for l in dry.stdout.lines() {
        assert!(
            !l.starts_with("DROP") && !l.starts_with("\\!") && !l.contains('\x1b'),
            "{l:?}"
        );
    }
    let s1 = stamp_of(&dry.stdout);

    // Two copies of the children run the printed sections with the client: default sql_mode and NO_BACKSLASH_ESCAPES.
    let copies: Vec<Vec<(String, String)>> = (0..2)
        .map(|_| {
            children
                .iter()
                .map(|c| {
                    let u = load_cell(server, c);
                    server.exec(&u, "CREATE TABLE victim (id INT)");
                    (c.to_string(), u)
                })
                .collect()
        })
        .collect();
    for (mode, copy) in [
        "",
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES');\n",
    ]
    .iter()
    .zip(&copies)
    {
        for (c, u) in copy {
            server.exec(u, &format!("{mode}{}", child_section(&dry.stdout, c)));
        }
    }
    assert!(
        !marker.exists(),
        "the mariadb client ran a shell command from the data"
    );

    let jdir = tempfile::tempdir().unwrap();
    let applied = sync_cli(
        &cells,
        &[
            "--fix-drift",
            "--apply",
            "--yes",
            "--journal-dir",
            &jdir.path().display().to_string(),
        ],
    );
    assert_eq!(
        applied.code,
        exit_codes::SYNC_DONE as i32,
        "{}{}",
        applied.stdout,
        applied.stderr
    );
    let s2 = stamp_of(&applied.stdout);
    for c in children {
        let want = dump(server, url_of(&cells, c)).replace(&s2, "NOW");
        for copy in &copies {
            let got = dump(server, url_of(copy, c)).replace(&s1, "NOW");
            assert_eq!(got, want, "{c}: the printed script and --apply differ");
            assert_eq!(
                server.query(url_of(copy, c), "SELECT COUNT(*) FROM victim"),
                "0\n"
            );
        }
    }
    // The copy holds the hostile name byte for byte.
    assert_eq!(
        server.query(
            url_of(&copies[1], "child2"),
            &format!(
                "SELECT COUNT(*) FROM aggregates WHERE name = X'{}' AND deleted = 0",
                hex(&name)
            )
        ),
        "1\n"
    );
}

async fn sqlite_exec(url: &str, sql: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let sql: &'static str = Box::leak(sql.to_string().into_boxed_str());
    sqlx::raw_sql(sql)
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}\nSQL:\n{sql}"));
    pool.close().await;
}

fn sqlite_cells(dir: &Path) -> Vec<(String, String)> {
    CELLS
        .iter()
        .map(|c| (c.to_string(), common::sqlite_cell(dir, c, &fixtures(c))))
        .collect()
}

#[tokio::test]
async fn the_printed_sqlite_script_gives_the_tables_apply_gives() {
    let dir = tempfile::tempdir().unwrap();
    let copy_dir = tempfile::tempdir().unwrap();
    let cells = sqlite_cells(dir.path());
    let copy = sqlite_cells(copy_dir.path());
    let name = hostile_name(&dir.path().join("pwned"));
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
    sqlite_exec(
        url_of(&cells, "api"),
        &format!(
            "UPDATE aggregates SET name = CAST(X'{}' AS TEXT), uuid = '0a000000-0000-4000-8000-0000000000ff' WHERE name = 'az-west-agg';
             INSERT INTO aggregate_metadata (created_at, aggregate_id, key, value, deleted)
             SELECT created_at, id, 'note', CAST(X'{}' AS TEXT), 0 FROM aggregates WHERE uuid = '0a000000-0000-4000-8000-0000000000ff';",
            hex(&name),
            hex("a\\b'c\r\n\\0")
        ),
    )
    .await;
    let mut args = v1_topology(&cells);
    args.push("--fix-drift".into());
    let (code, dry) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_PLANNED, "{dry}");
    assert!(dry.contains("CAST(X'"), "{dry}");
    // SQLite has no backslash escapes: a backslash in data is printed as hex, never doubled.
    for l in dry.lines().filter(|l| !l.starts_with("--")) {
        assert!(!l.contains('\\'), "{l}");
    }
    let s1 = stamp_of(&dry);
    for c in ["child1", "child2", "child3"] {
        sqlite_exec(url_of(&copy, c), &child_section(&dry, c)).await;
    }
    let jdir = tempfile::tempdir().unwrap();
    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    let s2 = stamp_of(&out);
    for c in ["child1", "child2", "child3"] {
        assert_eq!(
            sqlite_dump(url_of(&copy, c)).await.replace(&s1, "NOW"),
            sqlite_dump(url_of(&cells, c)).await.replace(&s2, "NOW"),
            "{c}: the printed script and --apply differ"
        );
    }
}

/// The statements of one child's part of an undo preview that change rows, in order.
fn preview_writes(out: &str, cell: &str) -> Vec<String> {
    child_section(out, cell)
        .lines()
        .filter(|l| l.starts_with("DELETE ") || l.starts_with("UPDATE "))
        .map(str::to_string)
        .collect()
}

/// The statements an undo reports it ran in one child.
fn undone_statements(out: &str, cell: &str) -> Vec<String> {
    let head = format!("{cell}: undone, ");
    out.lines()
        .skip_while(|l| !l.starts_with(&head))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn write_journal(path: &Path, j: &cellaudit::sync::journal::Journal) {
    std::fs::write(path, serde_json::to_string_pretty(j).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_runs_exactly_what_it_shows_and_refuses_an_edited_journal() {
    use cellaudit::sync::journal;
    let server = MariaDb::shared();
    let cells = deployment(server);
    let before = dumps(server, &cells);
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend(["--fix-drift".into()]);
    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    let path = journal_path(&out);
    let applied = dumps(server, &cells);
    let original = std::fs::read_to_string(&path).unwrap();
    let mut undo = v1_topology(&cells);
    undo.extend(["--undo".into(), path.display().to_string(), "--yes".into()]);
    let undo_cli = |extra: &[&str]| {
        let mut a = vec!["sync".to_string()];
        a.extend(undo.iter().cloned());
        a.extend(extra.iter().map(|s| s.to_string()));
        cellaudit(&a)
    };

    // An entry pointed at a row sync never wrote (az-east-agg, which child2 had before): the checksum catches the edit.
    let c2 = url_of(&cells, "child2");
    let victim: i64 = server
        .query(c2, "SELECT id FROM aggregates WHERE name = 'az-east-agg'")
        .trim()
        .parse()
        .unwrap();
    let mut j = journal::read(&path).unwrap();
    let child2 = j.children.iter_mut().find(|c| c.cell == "child2").unwrap();
    let e = child2
        .entries
        .iter_mut()
        .find(|e| e.table == "aggregates")
        .unwrap();
    e.id = victim;
    e.row.insert("id".into(), victim.into());
    write_journal(&path, &j);
    let run = undo_cli(&[]);
    assert_eq!(run.code, exit_codes::AUDIT_ERROR as i32, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("is damaged or was edited: its checksum"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(dumps(server, &cells), applied);

    // The same edit with the checksum recomputed (whoever can write the journal can do that): the
    // preview shows the DELETE of that row, and the row check refuses it, as it is not what sync wrote.
    j.checksum = journal::checksum(&j);
    write_journal(&path, &j);
    let run = undo_cli(&[]);
    assert_eq!(
        run.code,
        exit_codes::SYNC_REFUSED as i32,
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains(&format!("\nDELETE FROM aggregates WHERE id = {victim};\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "child2: aggregates row id {victim} changed since the sync wrote it"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Nothing was changed."),
        "{}",
        run.stdout
    );
    assert_eq!(dumps(server, &cells), applied);

    // Free text in a journal is not read: an old-style `undo_sql` is refused, not shown or run.
    let mut v: Value = serde_json::from_str(&original).unwrap();
    v["children"][0]["entries"][0]["undo_sql"] = "harmless".into();
    std::fs::write(&path, v.to_string()).unwrap();
    let run = undo_cli(&[]);
    assert_eq!(run.code, exit_codes::AUDIT_ERROR as i32);
    assert!(
        run.stderr.contains("unknown field `undo_sql`"),
        "{}",
        run.stderr
    );
    assert_eq!(dumps(server, &cells), applied);

    // The journal as written: the statements shown are the statements run, in the same order.
    std::fs::write(&path, &original).unwrap();
    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    for c in ["child1", "child2", "child3"] {
        let shown = preview_writes(&out, c);
        assert!(!shown.is_empty(), "{c}: {out}");
        assert_eq!(shown, undone_statements(&out, c), "{c}:\n{out}");
    }
    assert_eq!(dumps(server, &cells), before);
    let j = journal::read(&path).unwrap();
    assert!(
        j.children
            .iter()
            .all(|c| c.status == journal::ChildStatus::Undone),
        "{j:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_failed_undo_is_finished_by_a_later_undo() {
    use cellaudit::sync::journal;
    let server = MariaDb::shared();
    let mut cells = deployment(server);
    // child3 is written by an account that may not DELETE: its undo fails after the others committed.
    let c3 = url_of(&cells, "child3").to_string();
    let db3 = db_name(&c3);
    let user = format!("nodel_{db3}");
    server.exec(
        "mysql",
        &format!(
            "CREATE USER '{user}'@'localhost'; GRANT SELECT, INSERT, UPDATE ON `{db3}`.* TO '{user}'@'localhost';"
        ),
    );
    cells.iter_mut().find(|(n, _)| n == "child3").unwrap().1 =
        c3.replacen("root@", &format!("{user}@"), 1);
    let before = dumps(server, &cells);
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    let path = journal_path(&out);
    let mut undo = v1_topology(&cells);
    undo.extend(["--undo".into(), path.display().to_string(), "--yes".into()]);

    let (code, out) = run_lib(&undo, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_ROLLED_BACK, "{out}");
    assert!(out.contains("child1: undone, "), "{out}");
    assert!(out.contains("child2: undone, "), "{out}");
    assert!(out.contains("child3: NOT undone: "), "{out}");
    assert!(out.contains("DELETE command denied"), "{out}");
    assert!(
        out.contains("run the same --undo again to finish child3"),
        "{out}"
    );
    let j = journal::read(&path).unwrap();
    let status = |c: &str| j.children.iter().find(|x| x.cell == c).unwrap().status;
    assert_eq!(status("child1"), journal::ChildStatus::Undone);
    assert_eq!(status("child2"), journal::ChildStatus::Undone);
    assert_eq!(status("child3"), journal::ChildStatus::Committed);
    let after_first = dumps(server, &cells);
    assert_eq!(
        after_first[..3],
        before[..3],
        "child1 and child2 are restored"
    );
    assert_ne!(after_first[3], before[3], "child3 was rolled back");

    // The cause fixed, the same undo (here limited with --cell) finishes the rest.
    server.exec(
        "mysql",
        &format!("GRANT DELETE ON `{db3}`.* TO '{user}'@'localhost';"),
    );
    let mut finish = undo.clone();
    finish.extend(["--cell".into(), "child3".into()]);
    let (code, out) = run_lib(&finish, &Hooks::default()).await;
    assert_eq!(code, exit_codes::SYNC_DONE, "{out}");
    assert!(
        out.contains("-- already undone by an earlier --undo: child1 and child2"),
        "{out}"
    );
    assert!(!out.contains("-- == child1"), "{out}");
    assert!(out.contains("child3: undone, "), "{out}");
    assert_eq!(dumps(server, &cells), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_child_is_reported_and_journaled_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cells = sqlite_cells(dir.path());
    let c1 = url_of(&cells, "child1").to_string();
    let before = sqlite_dump(&c1).await;
    // Someone holds child1's write lock from the moment its transaction is about to begin.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(Some(release_rx)));
    let holder: Arc<Mutex<Option<std::thread::JoinHandle<()>>>> = Arc::new(Mutex::new(None));
    let h = holder.clone();
    let hooks = Hooks {
        before_child: Some(Box::new(move |cell| {
            if cell != "child1" {
                return;
            }
            let (locked_tx, locked_rx) = std::sync::mpsc::channel();
            let url = c1.clone();
            let rx = release_rx.lock().unwrap().take().unwrap();
            *h.lock().unwrap() = Some(std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection as _;
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql("BEGIN EXCLUSIVE")
                        .execute(&mut c)
                        .await
                        .unwrap();
                    locked_tx.send(()).unwrap();
                    let _ = rx.recv();
                    sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
                });
            }));
            locked_rx.recv().unwrap();
        })),
        after_step: None,
    };
    let jdir = tempfile::tempdir().unwrap();
    let mut args = v1_topology(&cells);
    args.extend(["--connect-timeout".into(), "1".into()]);
    args.extend(apply_flags(&jdir));
    let (code, out) = run_lib(&args, &hooks).await;
    release_tx.send(()).unwrap();
    if let Some(t) = holder.lock().unwrap().take() {
        t.join().unwrap();
    }
    assert_eq!(code, exit_codes::SYNC_ROLLED_BACK, "{out}");
    assert!(
        out.contains("child1: ROLLED BACK: child1: cannot start the transaction: ")
            && out.contains("database is locked"),
        "{out}"
    );
    assert!(!out.contains("Pending"), "{out}");
    let j = journal(&journal_path(&out));
    let c = child_journal(&j, "child1");
    assert_eq!(c["status"], "rolled_back");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("database is locked") && msg.ends_with("nothing was changed in child1"),
        "{msg}"
    );
    assert_eq!(sqlite_dump(url_of(&cells, "child1")).await, before);
}

#[test]
fn journals_go_to_the_state_directory_private_and_announced() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cells = sqlite_cells(dir.path());
    let state = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut args = vec!["sync".to_string()];
    args.extend(v1_topology(&cells));
    args.extend([
        "--cell".into(),
        "child1".into(),
        "--apply".into(),
        "--yes".into(),
    ]);
    let mut cmd = assert_cmd::Command::cargo_bin("cellaudit").unwrap();
    let out = cmd
        .args(&args)
        .current_dir(cwd.path())
        .env_remove("CELLAUDIT_CONFIG")
        .env("XDG_STATE_HOME", state.path())
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let jdir = state.path().join("cellaudit");
    let path = journal_path(&stdout);
    assert_eq!(path.parent().unwrap(), jdir, "{stdout}");
    assert!(
        stdout.contains(&format!("\nJournal: {}\n", path.display())),
        "{stdout}"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&jdir), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing lands in the current directory"
    );
}

#[test]
fn a_value_that_is_not_utf8_is_refused_not_copied_as_u_fffd() {
    let server = MariaDb::shared();
    let cells = deployment(server);
    // A parent whose aggregate names are VARBINARY and hold bytes that are not UTF-8.
    server.exec(
        url_of(&cells, "api"),
        "ALTER TABLE aggregates MODIFY name VARBINARY(255);
         UPDATE aggregates SET name = X'FF617A2D77657374', uuid = '0a000000-0000-4000-8000-0000000000fe' WHERE name = 'az-west-agg';",
    );
    let run = sync_cli(&cells, &["--cell", "child2"]);
    assert!(
        run.stdout.contains("bytes that are not UTF-8"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .contains("0a000000-0000-4000-8000-0000000000fe', 0);"),
        "the aggregate is still planned:\n{}",
        run.stdout
    );
    let jdir = tempfile::tempdir().unwrap();
    let flags = apply_flags(&jdir);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut extra = vec!["--cell", "child2"];
    extra.extend(flags);
    sync_cli(&cells, &extra);
    assert_eq!(
        server.query(
            url_of(&cells, "child2"),
            "SELECT COUNT(*) FROM aggregates WHERE uuid = '0a000000-0000-4000-8000-0000000000fe' OR name LIKE '%az-west'"
        ),
        "0\n"
    );
}
