//! Runs a cells v2 audit: reads the API DB, discovers the cells from its `cell_mappings`, reads every chosen cell
//! concurrently (each in its own snapshot), then runs the v2 checks, producing the same `Report` as cells v1.

use crate::checks::CellView;
use crate::checks::v2::{V2Cell, V2Context};
use crate::config::CellSpec;
use crate::db::Timeouts;
use crate::engine::{connectivity_finding, read_one_limited, union};
use crate::findings::{CellStatus, Report};
use crate::limits::ReadLimits;
use crate::queries::{Dataset, v2 as q};
use crate::snapshot::CellData;
use crate::topology_v2::{self as topo, V2Config};

/// Reads one database in one snapshot, as the v1 engine reads a cell.
async fn read(
    spec: &CellSpec,
    sets: &[&'static Dataset],
    timeouts: Timeouts,
    limits: &ReadLimits,
) -> (CellStatus, Option<CellData>) {
    let (status, data, _) = read_one_limited(spec, sets, timeouts, false, limits).await;
    (status, data)
}

fn aborted(statuses: Vec<CellStatus>, why: String) -> Report {
    let mut report = Report::new("cells-v2", statuses);
    report.aborted = Some(why);
    report.finish();
    report
}

/// A finished cells v2 audit with the snapshots it was computed from, for `explain`.
pub struct AuditedV2 {
    pub report: Report,
    pub api: Option<CellData>,
    /// Every mapped cell: (name, uuid, is cell0, its snapshot when it was audited and read).
    pub cells: Vec<(String, String, bool, Option<CellData>)>,
    /// What the placement checks read, when they ran.
    pub placement: Option<crate::placement::PlacementView>,
}

pub async fn audit_v2(cfg: &V2Config) -> Report {
    audit_v2_keep(cfg).await.report
}

/// Audits and keeps the snapshots; the report carries the audit's wall-clock time, for metrics.
pub async fn audit_v2_keep(cfg: &V2Config) -> AuditedV2 {
    let started = std::time::Instant::now();
    let mut audited = audit_v2_unstamped(cfg).await;
    audited.report.stamp(started);
    audited
}

async fn audit_v2_unstamped(cfg: &V2Config) -> AuditedV2 {
    let bare = |report: Report| AuditedV2 {
        report,
        api: None,
        cells: Vec::new(),
        placement: None,
    };
    let api_sets = union(
        std::iter::once(&[&q::CELL_MAPPINGS][..]).chain(cfg.checks.iter().map(|c| c.api_sets)),
    );
    let cell_sets = union(cfg.checks.iter().map(|c| c.cell_sets));
    let limits = ReadLimits::new(cfg.jobs, cfg.jobs_per_server);
    let (api_status, api_data) = read(&cfg.api, &api_sets, cfg.timeouts, &limits).await;
    let Some(api_data) = api_data else {
        let why = format!(
            "the API database could not be read, so no cell is known: {}",
            api_status.error.clone().unwrap_or_default()
        );
        return bare(aborted(vec![api_status], why));
    };
    if let Some(why) = crate::engine::not_nova(&api_data, crate::engine::NOVA_API_TABLES) {
        return bare(aborted(
            vec![api_status],
            format!("the API database is not a Nova API database ({why}), so no cell is known"),
        ));
    }
    let mappings = match crate::v2::cell_mappings(&api_data) {
        Ok(m) => m,
        Err(e) => {
            return bare(aborted(vec![api_status], format!("API database: {e}")));
        }
    };
    let names = topo::cell_names(&mappings);
    let (audited, overrides) = match topo::resolve(cfg, &mappings, &names) {
        Ok(r) => r,
        Err(e) => return bare(aborted(vec![api_status], e)),
    };
    let specs: Vec<Option<CellSpec>> = mappings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            audited[i].then(|| {
                topo::cell_spec(
                    &names[i],
                    m,
                    overrides[i].as_deref(),
                    cfg.template_source.as_deref(),
                )
            })
        })
        .collect();
    let reads = futures::future::join_all(specs.iter().map(|s| async {
        match s {
            Some(spec) => Some(read(spec, &cell_sets, cfg.timeouts, &limits).await),
            None => None,
        }
    }))
    .await;

    let mut statuses = vec![api_status];
    statuses.extend(reads.iter().flatten().map(|(s, _)| s.clone()));
    let mut report = Report::new("cells-v2", statuses);
    report
        .findings
        .extend(reads.iter().flatten().filter_map(|(s, _)| {
        connectivity_finding(
            s,
            "cell",
            "this cell was not audited; findings that depend on it (\"in no cell\") were withheld",
        )
    }));
    let cells: Vec<V2Cell<'_>> = mappings
        .iter()
        .enumerate()
        .map(|(i, m)| V2Cell {
            name: &names[i],
            uuid: &m.uuid,
            cell0: m.is_cell0(),
            disabled: m.disabled,
            audited: audited[i],
            data: reads[i].as_ref().and_then(|(_, d)| d.as_ref()),
            database: specs[i]
                .as_ref()
                .and_then(|s| s.url.as_ref().ok())
                .map(|u| u.database_key()),
        })
        .collect();
    let now = cfg.as_of.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    let ctx = V2Context {
        api: CellView {
            name: topo::API_NAME,
            data: Some(&api_data),
        },
        cells,
        default_az: &cfg.default_az,
        lag: cfg.lag.as_secs() as i64,
        now,
        target: cfg.target,
    };
    for check in &cfg.checks {
        (check.run)(&ctx).record_in(check.name, &mut report);
    }
    let unaudited = crate::engine::unaudited_findings(&report, "cell", |name| {
        ctx.cells
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.data)
            .and_then(|d| crate::engine::not_nova(d, crate::engine::NOVA_CELL_TABLES))
    });
    report.findings.extend(unaudited);
    let placement = crate::placement::audit(
        &cfg.placement,
        &cfg.api,
        &ctx,
        &specs,
        cfg.timeouts,
        &limits,
        &mut report,
    )
    .await;
    report.finish();
    drop(ctx);
    let cells = mappings
        .iter()
        .zip(reads)
        .enumerate()
        .map(|(i, (m, read))| {
            (
                names[i].clone(),
                m.uuid.clone(),
                m.is_cell0(),
                read.and_then(|(_, d)| d),
            )
        })
        .collect();
    AuditedV2 {
        report,
        api: Some(api_data),
        cells,
        placement,
    }
}
