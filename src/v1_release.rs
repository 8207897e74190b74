//! Where each cells v1 cell's Nova release keeps the aggregates and flavors its services read, and the data the checks compare as that release sees it.
//!
//! Verified in openstack/nova:
//! - up to Mitaka (13.x) aggregates and flavors live only in each cell's main database;
//! - Newton (14.0.0) adds them to the API database (`api_migrations/.../017_aggregates.py`; flavors since
//!   Mitaka's `005_flavors.py`). From Newton to Queens `AggregateList.get_all`/`get_by_host` return the API
//!   rows *plus* the live main-database rows (`nova/objects/aggregate.py` @17.0.0); flavors are looked up in
//!   the API database first and then in the main one up to Pike (`nova/objects/flavor.py` @16.0.0
//!   `get_by_flavor_id`, `FlavorList.get_all`), and only in the API database from Queens;
//! - Rocky (18.0.0, "Remove deprecated aggregate DB compatibility") reads aggregates only from the API database.
//! - While live main-database rows remain, `Aggregate.create` fails with "main database still contains
//!   aggregates" (Newton to Queens) and `Flavor.create` with "... flavors" (Newton to Pike), and Ocata's
//!   `345_require_online_migration_completion` refuses `db sync`. `nova-manage db online_data_migrations`
//!   (`migrate_aggregates` through Queens, `migrate_flavors` through Pike, `nova/cmd/manage.py`) moves them.

use crate::config::CellSpec;
use crate::db::{Row, Value};
use crate::dburl::DbUrl;
use crate::queries::{self, Dataset, Query};
use crate::release::Release;
use crate::snapshot::CellData;
use serde::Serialize;

/// Where a release reads aggregates (and, with `flavors_merged`, flavors) from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// Up to Mitaka: each cell's main database only.
    MainDb,
    /// Newton to Queens: the API database plus the live main-database rows.
    Merged,
    /// Rocky and Stein: the API database only.
    ApiDb,
    /// No cells v1 release (Train removed it) or no schema version to tell: read as given.
    Unknown,
}

/// The release a main or API database's schema version belongs to (`crate::release`), when it is a
/// sqlalchemy-migrate one; alembic-era schemas (Xena on) have no cells v1.
pub fn release_of(schema_version: Option<&str>) -> Option<Release> {
    schema_version
        .and_then(crate::release::of_schema_version)
        .map(|r| r.newest)
}

pub fn era_of(release: Option<Release>) -> Era {
    match release {
        Some(r) if r <= Release::MITAKA => Era::MainDb,
        Some(r) if r <= Release::QUEENS => Era::Merged,
        Some(r) if r <= Release::STEIN => Era::ApiDb,
        _ => Era::Unknown,
    }
}

/// Whether a release still reads flavors from the main database too (Newton to Pike).
pub fn flavors_merged(release: Option<Release>) -> bool {
    release.is_some_and(|r| (Release::NEWTON..=Release::PIKE).contains(&r))
}

/// A release as messages name it: "Stein (19)".
pub fn shown_release(release: Option<Release>) -> String {
    match release {
        Some(r) => r.to_string(),
        None => "an unknown release".into(),
    }
}

macro_rules! api_set {
    ($name:literal, $file:literal, $table:literal, [$($col:literal),*]) => {
        Dataset {
            name: $name,
            variants: &[Query {
                sql: include_str!(concat!("../queries/", $file, ".sql")),
                table: $table,
                columns: &[$($col),*],
            }],
        }
    };
}

pub const API_AGGREGATES: Dataset = api_set!(
    "api_aggregates",
    "v1_api_aggregates",
    "aggregates",
    ["id", "name", "uuid"]
);
pub const API_AGGREGATE_HOSTS: Dataset = api_set!(
    "api_aggregate_hosts",
    "v1_api_aggregate_hosts",
    "aggregate_hosts",
    ["aggregate_id", "host"]
);
pub const API_AGGREGATE_METADATA: Dataset = api_set!(
    "api_aggregate_metadata",
    "v1_api_aggregate_metadata",
    "aggregate_metadata",
    ["aggregate_id", "key", "value"]
);
pub const API_FLAVORS: Dataset = api_set!(
    "api_flavors",
    "v1_api_flavors",
    "flavors",
    [
        "flavorid",
        "id",
        "name",
        "memory_mb",
        "vcpus",
        "swap",
        "vcpu_weight",
        "rxtx_factor",
        "root_gb",
        "ephemeral_gb",
        "disabled",
        "is_public"
    ]
);
pub const API_FLAVOR_EXTRA_SPECS: Dataset = api_set!(
    "api_flavor_extra_specs",
    "v1_api_flavor_extra_specs",
    "flavor_extra_specs",
    ["flavor_id", "key", "value"]
);
pub const API_FLAVOR_PROJECTS: Dataset = api_set!(
    "api_flavor_projects",
    "v1_api_flavor_projects",
    "flavor_projects",
    ["flavor_id", "project_id"]
);
pub const API_PARENT_AGGREGATE_TIMES: Dataset = api_set!(
    "api_sync_parent_aggregate_times",
    "sync_api_parent_aggregate_times",
    "aggregates",
    ["id", "created_at", "updated_at"]
);
pub const API_PARENT_FLAVORS: Dataset = api_set!(
    "api_sync_parent_flavors",
    "sync_api_parent_flavors",
    "flavors",
    [
        "id",
        "created_at",
        "updated_at",
        "name",
        "memory_mb",
        "vcpus",
        "swap",
        "vcpu_weight",
        "flavorid",
        "rxtx_factor",
        "root_gb",
        "ephemeral_gb",
        "disabled",
        "is_public"
    ]
);
pub const API_CHILD_FLAVOR_IDS: Dataset = api_set!(
    "api_sync_child_flavor_ids",
    "sync_api_child_flavor_ids",
    "flavors",
    ["id", "flavorid", "name"]
);

/// Everything read from an API database (a handful of small tables).
pub const API_SETS: &[&Dataset] = &[
    &API_AGGREGATES,
    &API_AGGREGATE_HOSTS,
    &API_AGGREGATE_METADATA,
    &API_FLAVORS,
    &API_FLAVOR_EXTRA_SPECS,
    &API_FLAVOR_PROJECTS,
    &API_PARENT_AGGREGATE_TIMES,
    &API_PARENT_FLAVORS,
    &API_CHILD_FLAVOR_IDS,
];

/// Main-database dataset ← its API-database counterpart, for the aggregate datasets.
const AGG_PAIRS: &[(&Dataset, &Dataset)] = &[
    (&queries::AGGREGATES, &API_AGGREGATES),
    (&queries::AGGREGATE_HOSTS, &API_AGGREGATE_HOSTS),
    (&queries::AGGREGATE_METADATA, &API_AGGREGATE_METADATA),
    (
        &crate::sync::sql::PARENT_AGGREGATE_TIMES,
        &API_PARENT_AGGREGATE_TIMES,
    ),
];
const FLAVOR_PAIRS: &[(&Dataset, &Dataset)] = &[
    (&queries::FLAVORS, &API_FLAVORS),
    (&queries::FLAVOR_EXTRA_SPECS, &API_FLAVOR_EXTRA_SPECS),
    (&queries::FLAVOR_PROJECTS, &API_FLAVOR_PROJECTS),
    (&crate::sync::sql::PARENT_FLAVORS, &API_PARENT_FLAVORS),
    (&crate::sync::sql::CHILD_FLAVOR_IDS, &API_CHILD_FLAVOR_IDS),
];

/// The marker appended to a merged main-database aggregate row (see [`crate::v1::Aggregate::legacy`]).
pub const MAIN_MARK: &str = "main";

/// Where a cell's aggregates and flavors were read from, and what its main database still holds.
#[derive(Debug, Clone, Serialize)]
pub struct CellSource {
    pub cell: String,
    /// `parent` or `child`.
    pub role: crate::findings::Role,
    /// The main database's release (from `migrate_version`), when known.
    pub release: Option<Release>,
    /// The API database's release, when one was given and read.
    pub api_release: Option<Release>,
    pub era: Era,
    /// Where the aggregates the checks compare came from, in words.
    pub aggregates_from: String,
    pub flavors_from: String,
    /// The API database, password masked, when one was given.
    pub api_shown: Option<String>,
    /// Whether an API database was given but could not be read.
    pub api_unreadable: Option<String>,
    /// Set when the release reads an API database and none was given: the flag that would give it.
    pub api_missing_flag: Option<String>,
    /// Names of live main-database aggregates the release no longer reads alone (Newton on).
    pub legacy_aggregates: Vec<String>,
    /// Flavorids of live main-database flavors (Newton on).
    pub legacy_flavors: Vec<String>,
    /// Those legacy aggregates whose name the API database already has: `migrate_aggregates` logs
    /// `AggregateNameExists` and leaves them (`nova/objects/aggregate.py`).
    pub legacy_aggregates_in_api: Vec<String>,
    /// Those legacy flavors whose flavorid the API database already has (`FlavorExists`).
    pub legacy_flavors_in_api: Vec<String>,
    /// The server and database of the API database, to tell which cells share one.
    #[serde(skip)]
    pub api_key: Option<String>,
}

fn moved(data: &mut CellData, from: &CellData, pairs: &[(&Dataset, &Dataset)]) {
    for (main, api) in pairs {
        let rows = from.rows(api).map(<[Row]>::to_vec);
        data.sets.insert(main.name, rows);
    }
}

fn unavailable(data: &mut CellData, pairs: &[(&Dataset, &Dataset)], why: &str) {
    for (main, _) in pairs {
        data.sets.insert(main.name, Err(why.to_string()));
    }
}

/// Live main rows of `set` (column `deleted_col` zero), renumbered below zero so their ids cannot meet
/// the API database's (`migrate_aggregates` keeps the id) and marked as from the main database.
fn main_rows_for_merge(
    data: &CellData,
    set: &Dataset,
    id_col: usize,
    deleted_col: Option<usize>,
    mark: bool,
) -> Vec<Row> {
    data.rows(set)
        .unwrap_or_default()
        .iter()
        .filter(|r| deleted_col.is_none_or(|c| r.get(c).and_then(Value::as_int) == Some(0)))
        .map(|r| {
            let mut r = r.clone();
            if let Some(id) = r.get(id_col).and_then(Value::as_int) {
                r[id_col] = Value::Int(-id);
            }
            if mark {
                r.push(Value::Text(MAIN_MARK.into()));
            }
            r
        })
        .collect()
}

fn merged(
    data: &mut CellData,
    api: &CellData,
    set: &Dataset,
    api_set: &Dataset,
    main_rows: Vec<Row>,
) {
    let merged = api.rows(api_set).map(|rows| {
        let mut v = rows.to_vec();
        v.extend(main_rows);
        v
    });
    data.sets
        .insert(set.name, merged.map_err(|e| e.to_string()));
}

/// Live main-database aggregate names and flavorids (as Nova counts them: `deleted = 0`).
fn live_main(data: &CellData) -> (Vec<String>, Vec<String>) {
    let live = |set: &Dataset, name_col: usize, del_col: usize| -> Vec<String> {
        let mut v: Vec<String> = data
            .rows(set)
            .unwrap_or_default()
            .iter()
            .filter(|r| r.get(del_col).and_then(Value::as_int) == Some(0))
            .filter_map(|r| r.get(name_col).and_then(Value::as_text))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    (
        live(&queries::AGGREGATES, 1, 3),
        live(&queries::FLAVORS, 0, 2),
    )
}

/// The flag that gives a cell's API database, for messages.
pub fn api_flag(spec: &CellSpec) -> String {
    match spec.role {
        crate::findings::Role::Parent => "--parent-api URL (or api_url under [parent])".into(),
        _ => format!(
            "--child-api {}=URL (or api_url under its [[child]])",
            spec.name
        ),
    }
}

/// Replaces `main`'s aggregate and flavor datasets with what the cell's release reads (see the module
/// comment) and says where they came from. `api` is the cell's API database: `None` when not given,
/// `Some(Err)` when it could not be read.
pub fn resolve(
    spec: &CellSpec,
    main: &mut CellData,
    api: Option<Result<&CellData, String>>,
    api_spec: Option<&CellSpec>,
) -> CellSource {
    let release = release_of(main.schema_version.as_deref());
    let api_release = match &api {
        Some(Ok(a)) => release_of(a.schema_version.as_deref()),
        _ => None,
    };
    let mut era = era_of(release);
    // A schema with no version (or past Stein) given an API database is read as Rocky and Stein read.
    if era == Era::Unknown && api.is_some() {
        era = Era::ApiDb;
    }
    let (legacy_aggs, legacy_flavors) = live_main(main);
    let mut src = CellSource {
        cell: spec.name.clone(),
        role: spec.role,
        release,
        api_release,
        era,
        aggregates_from: "main database".into(),
        flavors_from: "main database".into(),
        api_shown: api_spec.map(|s| s.shown.clone()),
        api_unreadable: None,
        api_missing_flag: None,
        legacy_aggregates: Vec::new(),
        legacy_flavors: Vec::new(),
        legacy_aggregates_in_api: Vec::new(),
        legacy_flavors_in_api: Vec::new(),
        api_key: api_spec
            .and_then(|s| s.url.as_ref().ok())
            .map(DbUrl::database_key),
    };
    if matches!(era, Era::MainDb | Era::Unknown) {
        return src;
    }
    let fl_merged = flavors_merged(release);
    src.legacy_aggregates = legacy_aggs;
    src.legacy_flavors = legacy_flavors;
    let api = match api {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            let why = format!(
                "{} reads aggregates and flavors from its API database, which could not be read",
                shown_release(release)
            );
            unavailable(main, AGG_PAIRS, &why);
            unavailable(main, FLAVOR_PAIRS, &why);
            src.api_unreadable = Some(e);
            src.aggregates_from = "API database (unreadable)".into();
            src.flavors_from = src.aggregates_from.clone();
            return src;
        }
        None => {
            let flag = api_flag(spec);
            let why = format!(
                "{} reads aggregates and flavors from the API database named in its nova.conf [api_database]; give {flag}",
                shown_release(release)
            );
            unavailable(main, AGG_PAIRS, &why);
            unavailable(main, FLAVOR_PAIRS, &why);
            src.api_missing_flag = Some(flag);
            src.aggregates_from = "API database (not given)".into();
            src.flavors_from = src.aggregates_from.clone();
            return src;
        }
    };
    let api_names = |set: &Dataset, col: usize| -> std::collections::BTreeSet<String> {
        api.rows(set)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.get(col).and_then(Value::as_text))
            .collect()
    };
    let (agg_names, flavorids) = (api_names(&API_AGGREGATES, 1), api_names(&API_FLAVORS, 0));
    src.legacy_aggregates_in_api = src
        .legacy_aggregates
        .iter()
        .filter(|n| agg_names.contains(*n))
        .cloned()
        .collect();
    src.legacy_flavors_in_api = src
        .legacy_flavors
        .iter()
        .filter(|n| flavorids.contains(*n))
        .cloned()
        .collect();
    if era == Era::Merged {
        let aggs = main_rows_for_merge(main, &queries::AGGREGATES, 0, Some(3), true);
        let hosts = main_rows_for_merge(main, &queries::AGGREGATE_HOSTS, 0, None, false);
        let meta = main_rows_for_merge(main, &queries::AGGREGATE_METADATA, 0, None, false);
        let times = main_rows_for_merge(
            main,
            &crate::sync::sql::PARENT_AGGREGATE_TIMES,
            0,
            None,
            false,
        );
        merged(main, api, &queries::AGGREGATES, &API_AGGREGATES, aggs);
        merged(
            main,
            api,
            &queries::AGGREGATE_HOSTS,
            &API_AGGREGATE_HOSTS,
            hosts,
        );
        merged(
            main,
            api,
            &queries::AGGREGATE_METADATA,
            &API_AGGREGATE_METADATA,
            meta,
        );
        merged(
            main,
            api,
            &crate::sync::sql::PARENT_AGGREGATE_TIMES,
            &API_PARENT_AGGREGATE_TIMES,
            times,
        );
        src.aggregates_from = "API database + live main-database rows (merged)".into();
    } else {
        moved(main, api, AGG_PAIRS);
        src.aggregates_from = "API database".into();
    }
    if fl_merged {
        // The API database wins per flavorid (`get_by_flavor_id` tries it first); main rows fill in the rest.
        let api_fids: std::collections::BTreeSet<String> = api
            .rows(&API_FLAVORS)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.first().and_then(Value::as_text))
            .collect();
        let main_flavors: Vec<Row> =
            main_rows_for_merge(main, &queries::FLAVORS, 1, Some(2), false)
                .into_iter()
                .filter(|r| {
                    r.first()
                        .and_then(Value::as_text)
                        .is_none_or(|f| !api_fids.contains(&f))
                })
                .collect();
        let specs = main_rows_for_merge(main, &queries::FLAVOR_EXTRA_SPECS, 0, None, false);
        let projects = main_rows_for_merge(main, &queries::FLAVOR_PROJECTS, 0, None, false);
        merged(main, api, &queries::FLAVORS, &API_FLAVORS, main_flavors);
        merged(
            main,
            api,
            &queries::FLAVOR_EXTRA_SPECS,
            &API_FLAVOR_EXTRA_SPECS,
            specs,
        );
        merged(
            main,
            api,
            &queries::FLAVOR_PROJECTS,
            &API_FLAVOR_PROJECTS,
            projects,
        );
        // sync copies only API rows from Newton on; its own datasets come from the API database alone.
        moved(main, api, &FLAVOR_PAIRS[3..]);
        src.flavors_from = "API database + live main-database rows (merged)".into();
    } else {
        moved(main, api, FLAVOR_PAIRS);
        src.flavors_from = "API database".into();
    }
    src
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_map_to_where_they_read_aggregates() {
        let era = |v: &str| era_of(release_of(Some(v)));
        assert_eq!(era("migrate 302"), Era::MainDb);
        assert_eq!(era("migrate 319"), Era::MainDb);
        assert_eq!(era("migrate 334"), Era::Merged);
        assert_eq!(era("migrate 378"), Era::Merged);
        assert_eq!(era("migrate 390"), Era::ApiDb);
        assert_eq!(era("migrate 391"), Era::ApiDb);
        assert_eq!(era("migrate 402"), Era::Unknown);
        assert_eq!(era("alembic ab450ba04102"), Era::Unknown);
        assert_eq!(era_of(None), Era::Unknown);
        let r = |v: &str| release_of(Some(v));
        assert!(flavors_merged(r("migrate 362")) && !flavors_merged(r("migrate 378")));
        assert!(!flavors_merged(r("migrate 319")));
        assert_eq!(shown_release(r("migrate 62")), "Stein (19)");
    }
}
