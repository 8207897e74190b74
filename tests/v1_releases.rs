//! End-to-end tests of cells v1 as each Nova release keeps it (issue 11), on the release fixtures of
//! `fixtures/releases/v1/<release>/` loaded into this binary's private MariaDB.

mod common;

use common::MariaDb;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// A fixture file of one release.
fn fixture(release: &str, file: &str) -> PathBuf {
    common::root().join(format!("fixtures/releases/v1/{release}/{file}"))
}

/// One loaded deployment: each database's URL by its fixture name (`parent`, `parent_api`, `child1`, ...).
#[derive(Clone)]
struct Deployment {
    release: &'static str,
    dbs: BTreeMap<String, String>,
}

impl Deployment {
    /// Loads `<release>/<deployment>/*.sql` into fresh databases: the release's main or API schema, then the rows.
    fn load(server: &MariaDb, release: &'static str, deployment: &str) -> Deployment {
        let dir = fixture(release, deployment);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| {
                let p = e.ok()?.path();
                if p.extension()? != "sql" {
                    return None;
                }
                Some(p.file_stem()?.to_string_lossy().into_owned())
            })
            .collect();
        names.sort();
        let mut dbs = BTreeMap::new();
        for name in names {
            let url = server.create_database(&format!("{release}_{deployment}_{name}"));
            let schema = if name.ends_with("_api") {
                "schema-api.sql"
            } else {
                "schema-main.sql"
            };
            server.load_sql_file(&url, &fixture(release, schema));
            server.load_sql_file(&url, &dir.join(format!("{name}.sql")));
            dbs.insert(name, url);
        }
        Deployment { release, dbs }
    }

    fn url(&self, db: &str) -> &str {
        self.dbs
            .get(db)
            .unwrap_or_else(|| panic!("{} has no database {db}", self.release))
    }

    /// The topology flags: every child's own API database when it has one, else the parent's (a
    /// shared API database, as devstack's cells v1 set it up); `skip_api` children get none.
    fn topology(&self, skip_api: &[&str]) -> Vec<String> {
        let mut a = vec![
            "--parent".to_string(),
            self.url("parent").to_string(),
            "--parent-name".into(),
            "api".into(),
        ];
        let parent_api = self.dbs.get("parent_api");
        if let Some(u) = parent_api {
            a.extend(["--parent-api".into(), u.clone()]);
        }
        for child in ["child1", "child2"] {
            a.extend(["--child".into(), format!("{child}={}", self.url(child))]);
            if skip_api.contains(&child) {
                continue;
            }
            if let Some(u) = self.dbs.get(&format!("{child}_api")).or(parent_api) {
                a.extend(["--child-api".into(), format!("{child}={u}")]);
            }
        }
        a
    }

    fn audit(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["audit".to_string()];
        args.extend(self.topology(&[]));
        args.extend(extra.iter().map(|s| s.to_string()));
        common::json_run(args)
    }
}

/// Read-only deployments, loaded once per binary and shared by the tests that only audit them.
fn loaded(release: &'static str, deployment: &'static str) -> Deployment {
    static CACHE: OnceLock<Mutex<BTreeMap<(String, String), Deployment>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry((release.into(), deployment.into()))
        .or_insert_with(|| Deployment::load(MariaDb::shared(), release, deployment))
        .clone()
}

/// A finding as the tests compare it.
fn f(cell: &str, check: &str, kind: &str, severity: &str, key: Value) -> Value {
    json!({"check": check, "kind": kind, "severity": severity, "cell": cell, "key": key})
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

fn find<'a>(doc: &'a Value, cell: &str, kind: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["cell"] == cell && x["kind"] == kind)
        .unwrap_or_else(|| panic!("no {cell} {kind} in {doc}"))
}

fn outcome(doc: &Value, check: &str, cell: &str) -> (String, Option<String>) {
    let o = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["check"] == check && o["cell"] == cell)
        .unwrap_or_else(|| panic!("no outcome for {check} in {cell}"));
    (
        o["status"].as_str().unwrap().to_string(),
        o["reason"].as_str().map(str::to_string),
    )
}

/// What every release's drift deployment shares (fixtures/releases/v1/README.md and each
/// `<release>/README.md`): D1 az2-agg missing in child2, D2 az3-agg's AZ drifted in child1, D3
/// ssd-agg lacking cmp-7 in child2, D4 m1.medium missing in child2; every copy has its own uuid
/// (info; Liberty has no uuids). Look-alikes not reported: L1 child2's `zone-four` gives az4 to cmp-6
/// as the parent's az4-agg does; L2 child2's `default-zone` only restates the default AZ (neither an
/// AZ finding nor "only in child2"); L3 child1's p1.private is public (access not compared by default);
/// L4 cmp-9 is a soft-deleted compute; L5 parent members in both forms are one member.
fn common_drift(release: &str) -> Vec<Value> {
    let mut v = vec![
        f(
            "child1",
            "aggregate_metadata",
            "value_differs",
            "failure",
            json!({"aggregate": "az3-agg", "key": "availability_zone"}),
        ),
        f(
            "child1",
            "availability_zones",
            "az_differs",
            "failure",
            json!({"host": "cmp-3"}),
        ),
        f(
            "child1",
            "aggregates",
            "uuid_differs",
            "info",
            json!({"aggregate": "az1-agg"}),
        ),
        f(
            "child1",
            "aggregates",
            "uuid_differs",
            "info",
            json!({"aggregate": "az3-agg"}),
        ),
        f(
            "child1",
            "aggregates",
            "uuid_differs",
            "info",
            json!({"aggregate": "ssd-agg"}),
        ),
        f(
            "child2",
            "aggregates",
            "missing_in_child",
            "failure",
            json!({"aggregate": "az2-agg"}),
        ),
        f(
            "child2",
            "availability_zones",
            "az_differs",
            "failure",
            json!({"host": "cmp-4"}),
        ),
        f(
            "child2",
            "availability_zones",
            "az_differs",
            "failure",
            json!({"host": "cmp-5"}),
        ),
        f(
            "child2",
            "flavors",
            "missing_in_child",
            "failure",
            json!({"flavor": "3"}),
        ),
        f(
            "child2",
            "aggregate_hosts",
            "missing_in_child",
            "warning",
            json!({"aggregate": "ssd-agg", "host": "cmp-7"}),
        ),
        f(
            "child2",
            "aggregates",
            "uuid_differs",
            "info",
            json!({"aggregate": "ssd-agg"}),
        ),
    ];
    if release == "liberty" {
        // No aggregates.uuid before Mitaka (main migration 317).
        v.retain(|x| x["kind"] != "uuid_differs");
    }
    v
}

fn legacy(cell: &str, kind: &str) -> Value {
    f(cell, "releases", kind, "warning", json!({"cell": cell}))
}

/// The exact findings of `<release>/drift` (its README's table).
fn drift_findings(release: &str) -> Vec<Value> {
    let mut v = common_drift(release);
    match release {
        // Liberty, Mitaka: aggregates and flavors belong in the main database; nothing is legacy.
        "liberty" | "mitaka" => {}
        // D5/D6: child1's main database keeps a live az1-agg and m1.small, read merged (aggregates
        // both; flavors only in Newton) and legacy; not an aggregate or flavor difference.
        "newton" | "queens" => {
            v.push(legacy("child1", "legacy_aggregates"));
            v.push(legacy("child1", "legacy_flavors"));
        }
        // D5: child2's main database keeps a live az2-agg that Stein never reads: legacy, and D1 stays.
        "stein" => v.push(legacy("child2", "legacy_aggregates")),
        other => panic!("no release {other}"),
    }
    v
}

fn release_name(release: &str) -> &'static str {
    match release {
        "liberty" => "Liberty (12)",
        "mitaka" => "Mitaka (13)",
        "newton" => "Newton (14)",
        "queens" => "Queens (17)",
        "stein" => "Stein (19)",
        other => panic!("no release {other}"),
    }
}

fn assert_drift(release: &'static str) {
    let d = loaded(release, "drift");
    let (code, doc) = d.audit(&[]);
    assert_eq!(
        sorted(common::essentials(&doc)),
        sorted(drift_findings(release)),
        "{release}"
    );
    assert_eq!(code, 2);
    for c in doc["cells"].as_array().unwrap() {
        assert_eq!(c["release"], release_name(release), "{c}");
    }
    assert!(
        !doc.to_string().contains("MQ-SECRET"),
        "broker password shown"
    );
    // L3 is a difference only when asked for.
    let (_, with_access) = d.audit(&["--flavor-access"]);
    let mut want = drift_findings(release);
    want.push(f(
        "child1",
        "flavors",
        "value_differs",
        "warning",
        json!({"field": "is_public", "flavor": "p1"}),
    ));
    want.push(f(
        "child1",
        "flavors",
        "access_missing_in_child",
        "warning",
        json!({"flavor": "p1", "project": "proj-a"}),
    ));
    assert_eq!(
        sorted(common::essentials(&with_access)),
        sorted(want),
        "{release} --flavor-access"
    );
}

fn assert_shared(release: &'static str) {
    let d = loaded(release, "shared");
    let (code, doc) = d.audit(&[]);
    let want = if release == "liberty" {
        Vec::new()
    } else if release == "mitaka" {
        // No API database to share: each child's main database holds hand-made copies, each with its uuid.
        [
            ("child1", "az1-agg"),
            ("child1", "az3-agg"),
            ("child1", "ssd-agg"),
            ("child2", "az2-agg"),
            ("child2", "az4-agg"),
            ("child2", "ssd-agg"),
        ]
        .iter()
        .map(|(c, a)| {
            f(
                c,
                "aggregates",
                "uuid_differs",
                "info",
                json!({"aggregate": a}),
            )
        })
        .collect()
    } else {
        vec![f(
            "api",
            "releases",
            "api_database_shared",
            "info",
            json!({"cell": "api"}),
        )]
    };
    assert_eq!(sorted(common::essentials(&doc)), sorted(want), "{release}");
    assert_eq!(code, 0, "info only");
    if !["liberty", "mitaka"].contains(&release) {
        for check in ["aggregates", "aggregate_metadata", "flavors"] {
            for cell in ["child1", "child2"] {
                assert_eq!(outcome(&doc, check, cell).0, "skipped", "{check} {cell}");
            }
        }
    }
    // What can still differ is still compared.
    for cell in ["child1", "child2"] {
        assert_eq!(
            outcome(&doc, "availability_zones", cell),
            ("ran".into(), None)
        );
    }
}

#[test]
fn liberty_drift_findings_are_exact() {
    assert_drift("liberty");
}

#[test]
fn liberty_shared_deployment_is_consistent() {
    assert_shared("liberty");
}

#[test]
fn mitaka_drift_findings_are_exact() {
    assert_drift("mitaka");
}

#[test]
fn newton_drift_findings_are_exact() {
    assert_drift("newton");
}

#[test]
fn queens_drift_findings_are_exact() {
    assert_drift("queens");
}

#[test]
fn mitaka_shared_deployment_is_consistent() {
    assert_shared("mitaka");
}

#[test]
fn newton_shared_api_database_has_nothing_to_diff() {
    assert_shared("newton");
}

#[test]
fn queens_shared_api_database_has_nothing_to_diff() {
    assert_shared("queens");
}

#[test]
fn legacy_rows_name_what_they_break_and_how_to_clear_them() {
    let (_, doc) = loaded("newton", "drift").audit(&[]);
    let aggs = find(&doc, "child1", "legacy_aggregates");
    assert_eq!(
        aggs["message"],
        "the main database of 'child1' holds 1 live aggregate ('az1-agg'), which Newton (14) still reads merged with its API database's"
    );
    let impact = aggs["impact"].as_str().unwrap();
    for part in [
        "Aggregate.create fails",
        "345_require_online_migration_completion",
        "`nova-manage db online_data_migrations`",
        "cannot move 'az1-agg'",
    ] {
        assert!(impact.contains(part), "{part}: {impact}");
    }
    let flavors = find(&doc, "child1", "legacy_flavors");
    assert!(
        flavors["impact"]
            .as_str()
            .unwrap()
            .contains("Flavor.create fails"),
        "{flavors}"
    );
    // Queens no longer reads main-database flavors and is past the Ocata blocker.
    let (_, doc) = loaded("queens", "drift").audit(&[]);
    let flavors = find(&doc, "child1", "legacy_flavors");
    assert!(
        flavors["message"]
            .as_str()
            .unwrap()
            .contains("Queens (17) no longer reads"),
        "{flavors}"
    );
    assert!(
        !find(&doc, "child1", "legacy_aggregates")["impact"]
            .as_str()
            .unwrap()
            .contains("345_"),
    );
}

#[test]
fn stein_drift_findings_are_exact() {
    assert_drift("stein");
    let (_, doc) = loaded("stein", "drift").audit(&[]);
    let legacy = find(&doc, "child2", "legacy_aggregates");
    assert!(
        legacy["message"]
            .as_str()
            .unwrap()
            .contains("Stein (19) no longer reads"),
        "{legacy}"
    );
    // Every database's release, the API databases listed after their cells.
    let cells: Vec<(String, String)> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["schema_version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let c = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        cells,
        [
            c("api", "migrate 391"),
            c("api/api", "migrate 62"),
            c("child1", "migrate 391"),
            c("child1/api", "migrate 62"),
            c("child2", "migrate 391"),
            c("child2/api", "migrate 62"),
        ]
    );
}

#[test]
fn stein_shared_api_database_has_nothing_to_diff() {
    assert_shared("stein");
}

#[test]
fn a_child_without_its_api_database_names_the_flag_instead_of_reading_the_main_tables() {
    let d = loaded("stein", "drift");
    let mut args = vec!["audit".to_string()];
    args.extend(d.topology(&["child2"]));
    let (code, doc) = common::json_run(args);
    assert_eq!(code, 2);
    let missing = find(&doc, "child2", "api_database_not_given");
    assert_eq!(missing["severity"], "failure");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("give --child-api child2=URL"),
        "{missing}"
    );
    let (status, reason) = outcome(&doc, "aggregates", "child2");
    assert_eq!(status, "skipped");
    assert!(reason.unwrap().contains("--child-api child2=URL"));
    // Nothing about child2's aggregates or flavors comes from its main database's dead rows.
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| { x["cell"] != "child2" || x["check"] == "releases" }),
        "{doc}"
    );
}

/// CHECKSUM TABLE of the aggregate and flavor tables of a main database.
fn main_checksums(server: &MariaDb, url: &str) -> String {
    server.query(
        url,
        "CHECKSUM TABLE aggregates, aggregate_hosts, aggregate_metadata, instance_types, instance_type_extra_specs",
    )
}

fn sync(d: &Deployment, extra: &[&str]) -> common::Run {
    let mut args = vec!["sync".to_string()];
    args.extend(d.topology(&[]));
    args.extend(extra.iter().map(|s| s.to_string()));
    common::cellaudit(&args)
}

/// The aggregate and AZ findings of a child: what sync must fix.
fn aggregate_findings(doc: &Value, cell: &str) -> Vec<Value> {
    common::essentials(doc)
        .into_iter()
        .filter(|x| {
            x["cell"] == cell
                && [
                    "aggregates",
                    "aggregate_metadata",
                    "aggregate_hosts",
                    "availability_zones",
                ]
                .contains(&x["check"].as_str().unwrap())
                && x["severity"] != "info"
        })
        .collect()
}

#[test]
fn stein_sync_writes_the_child_api_database_and_leaves_its_main_database_alone() {
    let server = MariaDb::shared();
    let d = Deployment::load(server, "stein", "drift");
    let before = main_checksums(server, d.url("child2"));
    let journal = tempfile::tempdir().unwrap();
    let dir = journal.path().to_str().unwrap();

    let dry = sync(
        &d,
        &["--cell", "child2", "--check", "aggregates,aggregate_hosts"],
    );
    assert_eq!(dry.code, 1, "{}{}", dry.stdout, dry.stderr);
    assert!(
        dry.stdout
            .contains("its API database, where its release reads aggregates and flavors"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("1 insert into nova_api.aggregates, 1 insert into nova_api.aggregate_metadata, 3 inserts into nova_api.aggregate_hosts"),
        "{}",
        dry.stdout
    );

    let run = sync(
        &d,
        &[
            "--cell",
            "child2",
            "--check",
            "aggregates,aggregate_hosts",
            "--apply",
            "--yes",
            "--journal-dir",
            dir,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Re-audit: all 2 findings this run fixed are gone."),
        "{}",
        run.stdout
    );
    assert_eq!(main_checksums(server, d.url("child2")), before);
    assert_eq!(
        server.query(
            d.url("child2_api"),
            "SELECT a.name, m.value, GROUP_CONCAT(h.host ORDER BY h.host) FROM aggregates a \
             JOIN aggregate_metadata m ON m.aggregate_id = a.id JOIN aggregate_hosts h ON h.aggregate_id = a.id \
             WHERE a.name = 'az2-agg' GROUP BY a.name, m.value"
        ),
        "az2-agg\taz2\tcmp-4,cmp-5\n"
    );
    let (_, doc) = d.audit(&[]);
    assert_eq!(aggregate_findings(&doc, "child2"), Vec::<Value>::new());

    // The journal says where the rows went; undo takes them out of the API database again.
    let path = std::fs::read_dir(journal.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["children"][0]["api_database"], true);
    let undo = sync(&d, &["--undo", path.to_str().unwrap(), "--yes"]);
    assert_eq!(undo.code, 0, "{}{}", undo.stdout, undo.stderr);
    let (_, doc) = d.audit(&[]);
    assert_eq!(aggregate_findings(&doc, "child2").len(), 4, "{doc}");
    assert_eq!(main_checksums(server, d.url("child2")), before);
}

#[test]
fn explain_az_says_what_the_api_cell_answers_and_where_a_boot_can_land() {
    let d = loaded("stein", "drift");
    let explain = |az: &str| {
        let mut args = vec!["explain".to_string(), "az".into(), az.into()];
        args.extend(d.topology(&[]));
        let (_, doc) = common::json_run(args);
        doc["verdict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // D1: the top lists az2 (path!cell@host members), but child2's own API database does not know it.
    let az2 = explain("az2");
    assert_eq!(
        az2[..2],
        [
            "the API cell 'api' (Stein (19)) answers YES: it lists 'az2' because aggregates there name cmp-4 and cmp-5 in child2 as path!cell@host members",
            "child2 shows hosts in 'az2' at the top but no aggregate of its own gives them 'az2': a boot routed there fails with NoValidHost",
        ]
    );
    // L1: child2's differently named `zone-four` gives cmp-6 az4 as the top does: consistent.
    let az4 = explain("az4");
    assert_eq!(
        az4,
        [
            "the API cell 'api' (Stein (19)) answers YES: it lists 'az4' because aggregates there name cmp-6 in child2 as path!cell@host members",
            "the children's AvailabilityZoneFilter places it on hosts whose own aggregates carry 'az4': child2 (cmp-6)",
            "no problem found for this object",
            "host 'cmp-6' lives in child2 and is in AZ 'az4' there and at the parent: consistent",
        ]
    );
    // L2: an aggregate naming the default AZ changes nothing.
    let nova = explain("nova");
    assert!(nova[0].starts_with("'nova' is the default AZ"), "{nova:?}");
    assert!(
        nova.iter()
            .any(|l| l == "host 'cmp-7' lives in child2 and is in the default AZ there and at the parent: consistent"),
        "{nova:?}"
    );
    let unknown = explain("az-nowhere");
    assert!(
        unknown[0].starts_with("the API cell 'api' (Stein (19)) answers NO"),
        "{unknown:?}"
    );
}

/// Syncs child2's missing az2-agg and ssd-agg member in a fresh drift deployment of `release`;
/// returns the deployment and the run.
fn release_sync(release: &'static str) -> (Deployment, common::Run) {
    let server = MariaDb::shared();
    let d = Deployment::load(server, release, "drift");
    let journal = tempfile::tempdir().unwrap();
    let run = sync(
        &d,
        &[
            "--cell",
            "child2",
            "--check",
            "aggregates,aggregate_hosts",
            "--apply",
            "--yes",
            "--journal-dir",
            journal.path().to_str().unwrap(),
        ],
    );
    (d, run)
}

#[test]
fn mitaka_sync_fixes_the_child_main_database() {
    let (d, run) = release_sync("mitaka");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("its main database"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Re-audit: all 2 findings this run fixed are gone."),
        "{}",
        run.stdout
    );
    assert_eq!(
        MariaDb::shared().query(
            d.url("child2"),
            "SELECT a.name, m.value, GROUP_CONCAT(h.host ORDER BY h.host), a.uuid IS NOT NULL FROM aggregates a \
             JOIN aggregate_metadata m ON m.aggregate_id = a.id AND m.deleted = 0 \
             JOIN aggregate_hosts h ON h.aggregate_id = a.id AND h.deleted = 0 \
             WHERE a.name = 'az2-agg' AND a.deleted = 0 GROUP BY a.name, m.value, a.uuid"
        ),
        "az2-agg\taz2\tcmp-4,cmp-5\t1\n"
    );
    let (_, doc) = d.audit(&[]);
    assert_eq!(aggregate_findings(&doc, "child2"), Vec::<Value>::new());
}

#[test]
fn neighbours_from_a_cells_config_file_instead_of_the_cells_table() {
    let server = MariaDb::shared();
    let d = Deployment::load(server, "stein", "shared");
    server.exec(d.url("parent"), "DELETE FROM cells");
    let registry = |extra: &[&str]| {
        let (_, doc) = d.audit(&[&["--check", "cell_registry"], extra].concat());
        common::essentials(&doc)
    };
    // Without the file, the empty table is a warning that says where else the list may be.
    let (_, doc) = d.audit(&["--check", "cell_registry"]);
    let empty = find(&doc, "api", "registry_empty");
    assert!(
        empty["impact"].as_str().unwrap().contains("--cells-config"),
        "{empty}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cells.json");
    // The shape nova/cells/state.py CellStateManagerFile reads: neighbours keyed by name.
    std::fs::write(
        &file,
        r#"{"child1": {"name": "child1", "transport_url": "rabbit://nova:MQ-SECRET-x@mq/child1", "is_parent": false},
            "child2": {"name": "child2", "is_parent": false}}"#,
    )
    .unwrap();
    assert_eq!(
        registry(&["--cells-config", file.to_str().unwrap()]),
        Vec::<Value>::new()
    );
    std::fs::write(&file, r#"{"child1": {"is_parent": false}}"#).unwrap();
    assert_eq!(
        registry(&["--cells-config", file.to_str().unwrap()]),
        [f(
            "child2",
            "cell_registry",
            "not_registered",
            "failure",
            json!({"cell": "child2"})
        )]
    );
}

#[test]
fn default_az_is_configurable() {
    // With another default AZ, child2's `default-zone` (AZ nova) really puts cmp-7 in an AZ the top does not show.
    let (_, doc) = loaded("stein", "drift").audit(&["--default-az", "elsewhere"]);
    let az = find(&doc, "child2", "az_differs");
    assert!(
        common::essentials(&doc).contains(&f(
            "child2",
            "availability_zones",
            "az_differs",
            "failure",
            json!({"host": "cmp-7"})
        )),
        "{az}"
    );
}

#[test]
fn api_databases_from_a_config_file_and_releases_nova_would_not_run_together() {
    let stein = loaded("stein", "drift");
    let newton = loaded("newton", "drift");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cellaudit.toml");
    // child1: a Newton main database with a Stein API database, two releases from a Stein parent.
    std::fs::write(
        &conf,
        format!(
            "[parent]\nname = \"api\"\nurl = \"{}\"\napi_url = \"{}\"\n\n\
             [[child]]\nname = \"child1\"\nurl = \"{}\"\napi_url = \"{}\"\n\n\
             [[child]]\nname = \"child2\"\nurl = \"{}\"\napi_url = \"{}\"\n",
            stein.url("parent"),
            stein.url("parent_api"),
            newton.url("child1"),
            stein.url("child1_api"),
            stein.url("child2"),
            stein.url("child2_api"),
        ),
    )
    .unwrap();
    let (_, doc) = common::json_run(vec![
        "audit".into(),
        "--config".into(),
        conf.to_str().unwrap().into(),
        "--check".into(),
        "releases".into(),
    ]);
    let mismatch: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "release_mismatch")
        .map(|x| x["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        mismatch,
        [
            "the main database of 'child1' is at Newton (14) but its API database at Stein (19)",
            "'child1' runs Newton (14) and its parent 'api' Stein (19): more than one release apart",
        ]
    );
}

#[test]
fn an_unreadable_api_database_is_reported_without_its_password() {
    let d = loaded("stein", "drift");
    let mut args = vec!["audit".to_string()];
    args.extend(d.topology(&["child1"]));
    // A server that is not there, with a password that must not be shown anywhere.
    args.extend([
        "--child-api".into(),
        "child1=mysql://nova:API-SECRET-pw@127.0.0.1:1/nova_api".into(),
        "--connect-timeout".into(),
        "2".into(),
    ]);
    let run = common::cellaudit(&args);
    assert!(!run.stdout.contains("API-SECRET"), "{}", run.stdout);
    assert!(!run.stderr.contains("API-SECRET"), "{}", run.stderr);
    let (code, doc) = common::json_run(args);
    assert_eq!(code, 2);
    assert!(!doc.to_string().contains("API-SECRET"));
    let unreachable = find(&doc, "child1/api", "cell_unreachable");
    assert_eq!(unreachable["check"], "connectivity");
    let (status, reason) = outcome(&doc, "aggregates", "child1");
    assert_eq!(status, "skipped");
    assert!(reason.unwrap().contains("could not be read"));
}

#[test]
fn liberty_sync_inserts_without_aggregates_uuid_into_the_main_database() {
    // Liberty's own schema: aggregates has no uuid column (main migration 317 came in Mitaka).
    let (d, run) = release_sync("liberty");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "INSERT INTO aggregates (created_at, updated_at, deleted_at, name, deleted) VALUES"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Re-audit: all 2 findings this run fixed are gone."),
        "{}",
        run.stdout
    );
    let (_, doc) = d.audit(&[]);
    assert_eq!(aggregate_findings(&doc, "child2"), Vec::<Value>::new());
}
