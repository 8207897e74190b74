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

/// What every API-era drift deployment shares (fixtures/releases/v1/populate.py): D1 az2-agg missing
/// in child2's own API database, D2 az3-agg's AZ drifted in child1, D3 ssd-agg lacking cmp-7 in child2,
/// D4 m1.medium missing in child2 (which shifts p1.private to id 3 there). Look-alikes not reported:
/// L1 child2's `zone-four` gives az4 to cmp-6 as the parent's az4-agg does; L2 child2's
/// `default-zone` names the default AZ `nova`; L3 child1's p1.private is public (access not compared
/// by default); cmp-9 is a soft-deleted compute. Uuids differ per database by design (info).
fn api_era_drift() -> Vec<Value> {
    vec![
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
            "id_differs",
            "failure",
            json!({"flavor": "p1"}),
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
    ]
}

#[test]
fn stein_drift_findings_are_exact() {
    let d = loaded("stein", "drift");
    let (code, doc) = d.audit(&[]);
    let mut want = api_era_drift();
    // D5 (Stein): child2's main database still holds a live az2-agg, which Stein never reads: legacy,
    // and not child2's aggregate (az2-agg stays missing).
    want.push(f(
        "child2",
        "releases",
        "legacy_aggregates",
        "warning",
        json!({"cell": "child2"}),
    ));
    assert_eq!(sorted(common::essentials(&doc)), sorted(want));
    assert_eq!(code, 2);
    let legacy = find(&doc, "child2", "legacy_aggregates");
    assert!(
        legacy["message"]
            .as_str()
            .unwrap()
            .contains("Stein (19) no longer reads"),
        "{legacy}"
    );
    // Every database's release, the API databases listed after their cells.
    let cells: Vec<(String, String, String)> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["schema_version"].as_str().unwrap().to_string(),
                c["release"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let stein = |n: &str, v: &str| (n.to_string(), v.to_string(), "Stein (19)".to_string());
    assert_eq!(
        cells,
        [
            stein("api", "migrate 391"),
            stein("api/api", "migrate 62"),
            stein("child1", "migrate 391"),
            stein("child1/api", "migrate 62"),
            stein("child2", "migrate 391"),
            stein("child2/api", "migrate 62"),
        ]
    );
}

#[test]
fn stein_shared_api_database_has_nothing_to_diff() {
    let d = loaded("stein", "shared");
    let (code, doc) = d.audit(&[]);
    assert_eq!(
        common::essentials(&doc),
        [f(
            "api",
            "releases",
            "api_database_shared",
            "info",
            json!({"cell": "api"})
        )]
    );
    assert_eq!(code, 0, "info only");
    for check in ["aggregates", "aggregate_metadata", "flavors"] {
        for cell in ["child1", "child2"] {
            assert_eq!(outcome(&doc, check, cell).0, "skipped", "{check} {cell}");
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
