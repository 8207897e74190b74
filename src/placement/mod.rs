//! Placement: the half of the AZ story that lives outside Nova's databases. Reads placement's database (or, from
//! Newton to Stein, its tables in nova_api), pairs its providers, aggregates and allocations with the cells'
//! compute nodes, instances and migrations, and runs the `placement_aggregates`, `resource_providers` and
//! `allocations` checks on a cells v2 audit.
//!
//! Since Nova 28.0.0 AZ requests are scheduled only through placement (`map_az_to_placement_aggregate` in
//! nova/scheduler/request_filter.py): an AZ aggregate placement never learnt is a zone nobody can boot into.

mod allocations;
mod checks;
pub mod data;
pub mod explain;

use crate::checks::CheckRun;
use crate::checks::ids::Check;
use crate::checks::v2::V2Context;
use crate::config::CellSpec;
use crate::db::{Pool, Session, Timeouts};
use crate::engine::{connectivity_finding, read_one_limited};
use crate::findings::{Outcome, Report, Role};
use crate::limits::ReadLimits;
use crate::queries::{Dataset, placement as q, v2 as q2};
use crate::snapshot::CellData;
use std::collections::{BTreeMap, BTreeSet};

pub use checks::{AGGREGATES, PROVIDERS};
pub const ALLOCATIONS: Check = allocations::CHECK;

/// The name placement is reported under.
pub const NAME: &str = "placement";

/// Every placement check, in report order, with its one-line description.
pub const CHECKS: &[(Check, &str)] = &[
    (
        AGGREGATES,
        "every member host's compute node providers carry the nova_api aggregate's uuid in placement (AZs: a failure); no extra memberships; what would stop sync_aggregates",
    ),
    (
        PROVIDERS,
        "every live compute node has a provider of its uuid named after its hypervisor_hostname; no compute node provider without a compute node; no duplicate compute nodes",
    ),
    (
        ALLOCATIONS,
        "no allocation without a live instance or in-progress migration; every placed instance allocates, from its own node's provider tree (streamed)",
    ),
];

/// The box titles `cellaudit upgrade-check` shows for the placement checks (when placement is found).
pub const UPGRADE_TITLES: &[(Check, &str)] = &[
    (AGGREGATES, "Placement aggregates"),
    (PROVIDERS, "Resource providers"),
    (ALLOCATIONS, "Placement allocations"),
];

/// Whether a `--check` name is a placement check.
pub fn is_check(name: &str) -> bool {
    Check::from_name(name).is_some_and(is_placement)
}

/// Whether a check is one of placement's.
pub fn is_placement(check: Check) -> bool {
    CHECKS.iter().any(|(c, _)| *c == check)
}

/// Where placement is and which of its checks to run.
#[derive(Debug, Default, Clone)]
pub struct PlacementConfig {
    /// The placement database (`--placement-db`, `--placement-conf`, `[placement]`, nova.conf's
    /// `[placement_database]`); `None`: its tables in nova_api, when the API DB has them (Ocata–Stein).
    pub spec: Option<CellSpec>,
    /// The placement checks chosen.
    pub checks: Vec<Check>,
    /// The checks were named on the command line: when placement cannot be found, say so instead of staying silent.
    pub named: bool,
}

/// What the placement checks read, kept for `explain`.
#[derive(Debug, Default)]
pub struct PlacementView {
    pub placement: Option<data::Placement>,
    pub nova: data::Nova,
}

/// The last nova_api schema (sqlalchemy-migrate) whose release still served placement from nova_api:
/// Stein's 062. Train removed in-tree placement (openstack-placement has its own database) but never
/// dropped the tables, which Nova 34's schema still creates empty, and upgraded clouds keep stale copies.
const LAST_API_PLACEMENT_VERSION: i64 = 62;
/// API migration 016_resource_providers (Newton) created them.
const FIRST_API_PLACEMENT_VERSION: i64 = 16;

/// Whether placement lives in this nova_api: its tables exist and the schema is Newton's to Stein's.
pub fn placement_in_api(api: &CellData) -> bool {
    let version = api
        .schema_version
        .as_deref()
        .and_then(|v| v.strip_prefix("migrate "))
        .and_then(|n| n.trim().parse::<i64>().ok());
    api.schema.has_table("resource_providers")
        && version.is_some_and(|n| {
            (FIRST_API_PLACEMENT_VERSION..=LAST_API_PLACEMENT_VERSION).contains(&n)
        })
}

/// Reads one database with `sets`, keeping the snapshot open when `open`; the status says how it went.
/// The read takes a slot of `--jobs`/`--jobs-per-server` like the audit's own reads; a snapshot kept
/// open for streaming outlives its slot, as the instances check's sessions do.
async fn read(
    spec: &CellSpec,
    sets: &[&'static Dataset],
    timeouts: Timeouts,
    open: bool,
    limits: &ReadLimits,
) -> (
    crate::findings::CellStatus,
    Option<CellData>,
    Option<(Pool, Session)>,
) {
    read_one_limited(spec, sets, timeouts, open, limits).await
}

fn skip_all(run: &mut CheckRun, cells: &[&str], reason: &str) {
    for c in cells {
        run.outcomes.push((
            c.to_string(),
            Outcome::Skipped {
                reason: reason.to_string(),
            },
        ));
    }
}

async fn close(open: Option<(Pool, Session)>) {
    if let Some((pool, session)) = open {
        session.finish().await;
        pool.close().await;
    }
}

/// Runs the chosen placement checks after the v2 checks, adding placement's status, outcomes and findings.
/// `specs[i]` is how to reach `ctx.cells[i]` (`None` when not audited).
pub async fn audit(
    cfg: &PlacementConfig,
    api: &CellSpec,
    ctx: &V2Context<'_>,
    specs: &[Option<CellSpec>],
    timeouts: Timeouts,
    limits: &ReadLimits,
    report: &mut Report,
) -> Option<PlacementView> {
    if cfg.checks.is_empty() {
        return None;
    }
    let in_api = ctx.api.data.is_some_and(placement_in_api);
    let spec = match (&cfg.spec, in_api) {
        (Some(s), _) => s.clone(),
        // Newton to Stein: placement's tables are in nova_api (API migrations 016 and 029).
        (None, true) => CellSpec {
            name: NAME.to_string(),
            role: Role::Placement,
            url: api.url.clone(),
            shown: api.shown.clone(),
        },
        (None, false) => {
            if cfg.named {
                for check in &cfg.checks {
                    let mut run = CheckRun::default();
                    skip_all(
                        &mut run,
                        &[NAME],
                        "no placement database: give --placement-db URL or --placement-conf placement.conf (placement's tables in nova_api serve placement only up to Stein)",
                    );
                    run.record_in(*check, report);
                }
            }
            return None;
        }
    };
    let streaming = cfg.checks.contains(&ALLOCATIONS);
    let (status, pdata, popen) = read(&spec, q::PLACEMENT_SETS, timeouts, streaming, limits).await;
    report.cells.push(status.clone());
    let Some(pdata) = pdata else {
        report.findings.extend(connectivity_finding(
            &status,
            "placement database",
            "the placement checks did not run; the Nova-side checks are unaffected",
        ));
        for check in &cfg.checks {
            let mut run = CheckRun::default();
            run.outcomes.push((NAME.to_string(), Outcome::Unavailable));
            run.record_in(*check, report);
        }
        return None;
    };
    let placement = match data::placement(&pdata) {
        Ok(p) => p,
        Err(e) => {
            for check in &cfg.checks {
                let mut run = CheckRun::default();
                skip_all(&mut run, &[NAME], &format!("placement database: {e}"));
                run.record_in(*check, report);
            }
            close(popen).await;
            return None;
        }
    };
    // nova_api's placement tables with no provider at all: no compute ever reported there, so placement
    // is elsewhere (a Stein cloud on openstack-placement, or a deployment built without placement).
    if cfg.spec.is_none() && placement.providers.is_empty() {
        report.cells.pop();
        if cfg.named {
            for check in &cfg.checks {
                let mut run = CheckRun::default();
                skip_all(
                    &mut run,
                    &[NAME],
                    "nova_api's placement tables hold no resource provider, so placement is elsewhere: give --placement-db URL or --placement-conf placement.conf",
                );
                run.record_in(*check, report);
            }
        }
        close(popen).await;
        return None;
    }

    // The Nova side, each cell in a snapshot of its own: compute nodes, services and in-progress
    // migrations read whole; instances streamed afterwards from the same snapshot.
    let cell_sets: Vec<&'static Dataset> = q::CELL_SETS
        .iter()
        .copied()
        .chain([&q2::COMPUTE_SERVICES, &q2::COMPUTE_NODES])
        .collect();
    let reads = futures::future::join_all(ctx.cells.iter().zip(specs).map(|(c, s)| {
        let sets = &cell_sets;
        async move {
            match (s, c.data) {
                (Some(spec), Some(_)) => Some(read(spec, sets, timeouts, streaming, limits).await),
                _ => None,
            }
        }
    }))
    .await;
    let mut nova = data::Nova::default();
    let mut services = BTreeMap::new();
    let mut streams = Vec::new();
    let mut outcomes: Vec<(String, Outcome)> = vec![(NAME.to_string(), Outcome::Ran)];
    for (c, r) in ctx.cells.iter().zip(reads) {
        if !c.audited {
            nova.unread.push(c.name.to_string());
            continue;
        }
        let Some((_, Some(d), open)) = r else {
            if !c.cell0 {
                nova.unread.push(c.name.to_string());
            }
            outcomes.push((c.name.to_string(), Outcome::Unavailable));
            continue;
        };
        match data::add_cell(&mut nova, c.name, &d) {
            Ok(()) => {
                if let Ok(h) = crate::v2::cell_hosts(&d) {
                    services.insert(c.name.to_string(), h);
                }
                outcomes.push((c.name.to_string(), Outcome::Ran));
                if let Some((pool, session)) = open {
                    let no_hidden = d
                        .schema
                        .missing(q::INSTANCES.table, q::INSTANCES.columns)
                        .is_some();
                    if d.schema
                        .missing(q::INSTANCES_NO_HIDDEN.table, q::INSTANCES_NO_HIDDEN.columns)
                        .is_none()
                    {
                        streams.push((pool, c.name.to_string(), session, no_hidden));
                    } else {
                        close(Some((pool, session))).await;
                    }
                }
            }
            Err(e) => {
                if !c.cell0 {
                    nova.unread.push(c.name.to_string());
                }
                outcomes.push((c.name.to_string(), Outcome::Skipped { reason: e }));
                close(open).await;
            }
        }
    }

    // nova_api's aggregates and host mappings: from the audit's read when its checks needed them, else read here.
    let own_api;
    let api_data: Option<&CellData> = match ctx.api.data {
        Some(d) if d.rows(&q2::API_AGGREGATES).is_ok() && d.rows(&q2::HOST_MAPPINGS).is_ok() => {
            Some(d)
        }
        _ => {
            let sets = [
                &q2::API_AGGREGATES,
                &q2::API_AGGREGATE_HOSTS,
                &q2::API_AGGREGATE_METADATA,
                &q2::HOST_MAPPINGS,
                &q2::CELL_MAPPINGS,
            ];
            own_api = read(api, &sets, timeouts, false, limits).await.1;
            own_api.as_ref()
        }
    };
    let aggregates = api_data.map(crate::v2::api_aggregates);
    // The newest release the API DB's schema allows: what decides whether Nova mirrors aggregates into
    // placement at all (Rocky on) and whether AZs are scheduled only through it (2023.2 on).
    let api_release = api_data
        .and_then(|d| d.schema_version.as_deref())
        .and_then(crate::release::of_schema_version)
        .map(|r| r.newest);
    let host_mappings: Option<BTreeMap<String, String>> = api_data
        .and_then(|d| crate::v2::host_mappings(d).ok())
        .map(|m| {
            m.into_iter()
                .map(|(h, u)| (h, ctx.cell_name(&u).to_string()))
                .collect()
        });

    let inputs = checks::Inputs {
        placement_name: NAME,
        placement: &placement,
        nova: &nova,
        aggregates: match &aggregates {
            Some(Ok(a)) => a,
            _ => &[],
        },
        host_mappings: host_mappings.as_ref(),
        services: &services,
    };
    for check in &cfg.checks {
        let mut run = match *check {
            AGGREGATES => match (&aggregates, &placement.aggregates_unreadable) {
                (_, Some(e)) => {
                    let mut r = CheckRun::default();
                    skip_all(&mut r, &[NAME], &format!("provider aggregates: {e}"));
                    r
                }
                // Before Rocky Nova never put its aggregates into placement and no scheduler code read them
                // there (nova/compute/api.py @17.0.0 has no aggregate_add_host; request_filter.py arrives in
                // 18.0.0): an empty mirror is what a healthy Ocata-Queens cloud has.
                (Some(Ok(_)), None)
                    if api_release.is_some_and(|r| r < crate::release::Release::ROCKY) =>
                {
                    let mut r = CheckRun::default();
                    skip_all(
                        &mut r,
                        &[NAME],
                        "before Rocky (18.0.0) Nova does not mirror its aggregates into placement and nothing reads them there",
                    );
                    r
                }
                (Some(Ok(_)), None) => checks::placement_aggregates(&inputs, api_release),
                (Some(Err(e)), None) => {
                    let mut r = CheckRun::default();
                    skip_all(&mut r, &[NAME], &format!("API DB aggregates: {e}"));
                    r
                }
                (None, None) => {
                    let mut r = CheckRun::default();
                    skip_all(&mut r, &[NAME], "the API DB could not be read");
                    r
                }
            },
            PROVIDERS => checks::resource_providers(&inputs),
            _ => continue,
        };
        if run.outcomes.is_empty() {
            run.outcomes = outcomes.clone();
        }
        run.record_in(*check, report);
    }

    if streaming {
        let mut pools = Vec::new();
        let mut cells = Vec::new();
        for (pool, name, session, no_hidden) in streams {
            pools.push(pool);
            cells.push(allocations::CellStream {
                name,
                session,
                no_hidden,
            });
        }
        let unread: BTreeSet<String> = nova.unread.iter().cloned().collect();
        match popen {
            Some((ppool, psession)) => {
                let (mut run, back) =
                    allocations::run(NAME, psession, cells, unread, &placement, &nova).await;
                // Cells read but not streamed (unreadable ones) keep their outcome from the reads.
                for (name, o) in &outcomes {
                    if !run.outcomes.iter().any(|(n, _)| n == name) {
                        run.outcomes.push((name.clone(), o.clone()));
                    }
                }
                run.record_in(ALLOCATIONS, report);
                for s in back.into_iter().flatten() {
                    s.finish().await;
                }
                ppool.close().await;
            }
            None => {
                let mut run = CheckRun::default();
                skip_all(&mut run, &[NAME], "the placement snapshot was not open");
                run.record_in(ALLOCATIONS, report);
                for c in cells {
                    c.session.finish().await;
                }
            }
        }
        for p in pools {
            p.close().await;
        }
    } else {
        close(popen).await;
    }
    Some(PlacementView {
        placement: Some(placement),
        nova,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Schema;

    fn api(version: Option<&str>, tables: &[&str]) -> CellData {
        CellData {
            schema: Schema {
                tables: tables
                    .iter()
                    .map(|t| (t.to_string(), Default::default()))
                    .collect(),
                ..Schema::default()
            },
            schema_version: version.map(str::to_string),
            ..CellData::default()
        }
    }

    #[test]
    fn placement_is_in_nova_api_from_newton_to_stein_only() {
        let rp = &["resource_providers"];
        assert!(!placement_in_api(&api(Some("migrate 15"), rp)));
        assert!(placement_in_api(&api(Some("migrate 16"), rp)), "Newton");
        assert!(placement_in_api(&api(Some("migrate 31"), rp)), "Ocata");
        assert!(placement_in_api(&api(Some("migrate 62"), rp)), "Stein");
        assert!(!placement_in_api(&api(Some("migrate 67"), rp)), "Train");
        assert!(
            !placement_in_api(&api(Some("alembic cdeec0c85668"), rp)),
            "2023.1 on"
        );
        assert!(
            !placement_in_api(&api(Some("migrate 62"), &[])),
            "no tables"
        );
        assert!(!placement_in_api(&api(None, rp)), "unknown version");
    }
}
