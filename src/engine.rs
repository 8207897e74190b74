//! Runs an audit: reads every cell concurrently, each in its own snapshot, then runs the checks over the snapshots.

use crate::checks::{CellView, CheckDef, Expect, Residency, V1_ALWAYS_CHILD, V1Context};
use crate::config::{AuditConfig, CellSpec};
use crate::db::{Pool, Timeouts};
use crate::findings::{CellState, CellStatus, Finding, Report, Severity};
use crate::queries::Dataset;
use crate::snapshot::{CellData, read_cell, read_cell_open};

/// A cell's pool and its snapshot, left open for the streaming checks.
type Open = (Pool, crate::db::Session);

/// Reads one cell; any error comes back as one line with the password scrubbed.
/// With `keep_open` the snapshot stays open and comes back with its pool, for the streaming checks.
pub(crate) async fn read_one_open(
    spec: &CellSpec,
    sets: &[&'static Dataset],
    timeouts: Timeouts,
    keep_open: bool,
) -> (CellStatus, Option<CellData>, Option<Open>) {
    let mut status = CellStatus {
        name: spec.name.clone(),
        role: spec.role,
        status: CellState::Ok,
        error: None,
        url: spec.shown.clone(),
        schema_version: None,
        read_seconds: None,
        rows_read: None,
        release: None,
    };
    let url = match &spec.url {
        Ok(u) => u,
        Err(e) => {
            status.status = CellState::Misconfigured;
            status.error = Some(e.clone());
            return (status, None, None);
        }
    };
    let started = std::time::Instant::now();
    let result = async {
        let pool = Pool::connect(url, timeouts).await?;
        if keep_open {
            return match read_cell_open(&pool, sets, timeouts).await {
                Ok((data, session)) => Ok((data, Some((pool, session)))),
                Err(e) => {
                    pool.close().await;
                    Err(e)
                }
            };
        }
        let data = read_cell(&pool, sets, timeouts).await;
        pool.close().await;
        data.map(|d| (d, None))
    }
    .await;
    status.read_seconds = Some(started.elapsed().as_secs_f64());
    match result {
        Ok((data, open)) => {
            status.schema_version = data.schema_version.clone();
            status.rows_read = Some(
                data.sets
                    .values()
                    .map(|r| r.as_ref().map_or(0, |rows| rows.len() as u64))
                    .sum(),
            );
            status.release = data
                .schema_version
                .as_deref()
                .and_then(crate::release::of_schema_version)
                .map(|r| r.to_string());
            (status, Some(data), open)
        }
        Err(e) => {
            status.status = CellState::Unreachable;
            status.error = Some(url.scrub(&format!("cell '{}' ({}): {e}", spec.name, status.url)));
            (status, None, None)
        }
    }
}

/// [`read_one_open`] once `limits` grants a read slot for the cell's server.
pub(crate) async fn read_one_limited(
    spec: &CellSpec,
    sets: &[&'static Dataset],
    timeouts: Timeouts,
    keep_open: bool,
    limits: &crate::limits::ReadLimits,
) -> (CellStatus, Option<CellData>, Option<Open>) {
    let server = spec.url.as_ref().ok().map(|u| u.server_key());
    let _permit = limits.acquire(server.as_deref()).await;
    read_one_open(spec, sets, timeouts, keep_open).await
}

/// Pairs each cell's pool with its session again (a session is gone if its stream was abandoned).
fn reopen(
    ppool: Option<Pool>,
    cpools: Vec<Option<Pool>>,
    sessions: crate::checks::Sessions,
) -> Vec<(Option<Pool>, Option<crate::db::Session>)> {
    std::iter::once((ppool, sessions.parent))
        .chain(cpools.into_iter().zip(sessions.children))
        .collect()
}

/// Ends the snapshots left open for streaming and closes their pools.
async fn close_all(opens: Vec<(Option<Pool>, Option<crate::db::Session>)>) {
    futures::future::join_all(opens.into_iter().map(|(pool, session)| async move {
        if let Some(s) = session {
            s.finish().await;
        }
        if let Some(p) = pool {
            p.close().await;
        }
    }))
    .await;
}

/// The failure finding for a cell that could not be read or is misconfigured; both topologies report it alike.
pub(crate) fn connectivity_finding(s: &CellStatus, noun: &str, impact: &str) -> Option<Finding> {
    let (kind, what) = match s.status {
        CellState::Ok => return None,
        CellState::Misconfigured => ("cell_misconfigured", "is misconfigured"),
        CellState::Unreachable => ("cell_unreachable", "could not be read"),
    };
    Some(
        Finding::new(
            "connectivity",
            kind,
            Severity::Failure,
            &s.name,
            &[("cell", &s.name)],
            format!(
                "{noun} '{}' {what}: {}",
                s.name,
                s.error.clone().unwrap_or_default()
            ),
        )
        .impact(impact),
    )
}

/// Tables every Nova cell database has had since long before cells v1 (nova/db/main/models.py):
/// without them a database is not Nova's, whatever else it holds.
pub(crate) const NOVA_CELL_TABLES: &[&str] = &["instances", "services"];
/// The cells v2 API database's table of cells (nova/db/api/models.py).
pub(crate) const NOVA_API_TABLES: &[&str] = &["cell_mappings"];

/// Why a database read fine but is not Nova's: the core tables it lacks, or `None`.
pub(crate) fn not_nova(data: &CellData, tables: &[&str]) -> Option<String> {
    let missing: Vec<String> = tables
        .iter()
        .filter(|t| !data.schema.has_table(t))
        .map(|t| format!("`{t}`"))
        .collect();
    match missing.len() {
        0 => None,
        1 => Some(format!("table {} is missing", missing[0])),
        _ => Some(format!("tables {} are missing", missing.join(", "))),
    }
}

/// A failure for each cell that was read but is not a Nova database (`why_not_nova` names its missing
/// core tables), or on which no check could run (every one skipped): such a cell was not audited at
/// all, and a clean report would hide that.
pub(crate) fn unaudited_findings(
    report: &Report,
    noun: &str,
    why_not_nova: impl Fn(&str) -> Option<String>,
) -> Vec<Finding> {
    use crate::findings::{Outcome, Role};
    report
        .cells
        .iter()
        .filter(|c| c.status == CellState::Ok && !matches!(c.role, Role::Parent | Role::Api))
        .filter_map(|c| {
            let outcomes: Vec<&Outcome> = report
                .checks
                .iter()
                .filter(|o| o.cell == c.name)
                .map(|o| &o.outcome)
                .collect();
            let not_nova = why_not_nova(&c.name);
            // One selected check that skipped already says why in its outcome; the rule is for a cell
            // on which a run of several checks learned nothing at all.
            if not_nova.is_none()
                && (outcomes.len() < 2 || outcomes.iter().any(|o| matches!(o, Outcome::Ran)))
            {
                return None;
            }
            let mut reasons: Vec<String> = Vec::new();
            for o in &outcomes {
                if let Outcome::Skipped { reason } = o
                    && !reasons.contains(reason)
                {
                    reasons.push(reason.clone());
                }
            }
            let what = match not_nova {
                Some(why) => format!("it is not a Nova database ({why})"),
                None => format!("every check was skipped: {}", reasons.join("; ")),
            };
            Some(
                Finding::new(
                    "connectivity",
                    "cell_not_audited",
                    Severity::Failure,
                    &c.name,
                    &[("cell", &c.name)],
                    format!("{noun} '{}' was read but not audited: {what}", c.name),
                )
                .impact("nothing is known about this cell's drift; a clean result would be false"),
            )
        })
        .collect()
}

pub(crate) fn union<'a>(
    sets: impl IntoIterator<Item = &'a [&'static Dataset]>,
) -> Vec<&'static Dataset> {
    let mut out: Vec<&'static Dataset> = Vec::new();
    for s in sets {
        for d in s {
            if !out.iter().any(|o| o.name == d.name) {
                out.push(d);
            }
        }
    }
    out
}

/// What a cells v1 audit needs besides the databases.
pub struct V1Plan<'a> {
    pub checks: &'a [&'static CheckDef],
    /// Told of each stage as the audit reaches it (a spinner on a terminal); `None` for silence.
    pub progress: Option<&'a dyn crate::progress::Progress>,
    pub expect: Expect,
    pub timeouts: Timeouts,
    pub ignore_flavor_access: bool,
    /// Differences on rows changed this recently are lagging (info), not drift.
    pub lag: std::time::Duration,
    /// The time `lag` counts back from (seconds since the epoch, UTC); `None` is now.
    pub as_of: Option<i64>,
    /// `--jobs` and `--jobs-per-server`: databases whose datasets are read at once, overall and per server.
    pub jobs: (usize, usize),
    /// How the instances check reads rows.
    pub instances_mode: crate::checks::instances::Mode,
    /// Newton to Stein: the API databases of the cells, named after their cells.
    pub apis: &'a [CellSpec],
    /// The AZ of hosts in no AZ aggregate; an aggregate with this AZ is no AZ.
    pub default_az: &'a str,
    /// `[cells] cells_config` JSON files by cell name.
    pub cells_config: &'a std::collections::BTreeMap<String, std::path::PathBuf>,
}

/// Nova's `[cells] instance_updated_at_threshold`: the heal task resyncs instances changed this recently.
pub const DEFAULT_LAG: std::time::Duration = std::time::Duration::from_secs(3600);

impl<'a> V1Plan<'a> {
    pub fn from_config(cfg: &'a AuditConfig) -> V1Plan<'a> {
        V1Plan {
            checks: &cfg.checks,
            progress: None,
            expect: cfg.expect,
            timeouts: cfg.timeouts,
            ignore_flavor_access: cfg.ignore_flavor_access,
            lag: cfg.lag,
            as_of: cfg.as_of,
            instances_mode: cfg.instances_mode,
            jobs: cfg.jobs,
            apis: &cfg.apis,
            default_az: &cfg.default_az,
            cells_config: &cfg.cells_config,
        }
    }
}

/// Reads the cells' API databases (within the same read limits as the cells), returning each one's status and data.
async fn read_apis(
    apis: &[CellSpec],
    timeouts: Timeouts,
    limits: &crate::limits::ReadLimits,
) -> Vec<(CellStatus, Option<CellData>)> {
    futures::future::join_all(apis.iter().map(|a| async move {
        let (mut status, data, _) =
            read_one_limited(a, crate::v1_release::API_SETS, timeouts, false, limits).await;
        status.name = api_status_name(&a.name);
        (status, data)
    }))
    .await
}

/// How a cell's API database is named in the report's cell list.
pub fn api_status_name(cell: &str) -> String {
    format!("{cell}/api")
}

/// Substitutes in each read cell the aggregates and flavors its release reads (see `v1_release`).
fn resolve_sources(
    parent: &CellSpec,
    pdata: Option<&mut CellData>,
    children: &[CellSpec],
    creads: &mut [(CellStatus, Option<CellData>)],
    apis: &[CellSpec],
    api_reads: &[(CellStatus, Option<CellData>)],
) -> Vec<crate::v1_release::CellSource> {
    let api_of = |name: &str| -> (Option<Result<&CellData, String>>, Option<&CellSpec>) {
        match apis.iter().position(|a| a.name == name) {
            None => (None, None),
            Some(i) => {
                let (st, d) = &api_reads[i];
                let r = d
                    .as_ref()
                    .ok_or_else(|| st.error.clone().unwrap_or_default());
                (Some(r), Some(&apis[i]))
            }
        }
    };
    let mut out = Vec::new();
    if let Some(d) = pdata {
        let (a, s) = api_of(&parent.name);
        out.push(crate::v1_release::resolve(parent, d, a, s));
    }
    for (spec, (_, d)) in children.iter().zip(creads.iter_mut()) {
        if let Some(d) = d {
            let (a, s) = api_of(&spec.name);
            out.push(crate::v1_release::resolve(spec, d, a, s));
        }
    }
    out
}

pub async fn audit_v1(cfg: &AuditConfig) -> Report {
    audit_v1_cells(&cfg.parent, &cfg.children, &V1Plan::from_config(cfg)).await
}

pub async fn audit_v1_cells(parent: &CellSpec, children: &[CellSpec], plan: &V1Plan<'_>) -> Report {
    audit_v1_keep(parent, children, plan, &[], &[]).await.report
}

/// A finished audit with the snapshots it was computed from, for commands that act on its findings (sync).
pub struct Audited {
    pub report: Report,
    pub parent: Option<CellData>,
    /// Every child in configuration order, `None` when it could not be read.
    pub children: Vec<(String, Option<CellData>)>,
    /// Where each read cell's aggregates and flavors came from (parent first), as the checks saw it.
    pub sources: Vec<crate::v1_release::CellSource>,
    /// The AZ of hosts in no AZ aggregate, as the audit used it.
    pub default_az: String,
}

/// Audits like [`audit_v1_cells`], also reading `extra_*` datasets in the same snapshots, and keeps the snapshots.
pub async fn audit_v1_keep(
    parent: &CellSpec,
    children: &[CellSpec],
    plan: &V1Plan<'_>,
    extra_parent: &'static [&'static Dataset],
    extra_child: &'static [&'static Dataset],
) -> Audited {
    let started = std::time::Instant::now();
    let mut audited = read_and_check(parent, children, plan, extra_parent, extra_child).await;
    audited.report.stamp(started);
    audited
}

/// The audit itself; [`audit_v1_keep`] times it.
async fn read_and_check(
    parent: &CellSpec,
    children: &[CellSpec],
    plan: &V1Plan<'_>,
    extra_parent: &'static [&'static Dataset],
    extra_child: &'static [&'static Dataset],
) -> Audited {
    let parent_sets = union(
        plan.checks
            .iter()
            .map(|c| c.parent_sets)
            .chain(std::iter::once(extra_parent)),
    );
    let child_sets = union(
        plan.checks
            .iter()
            .map(|c| c.child_sets)
            .chain(std::iter::once(V1_ALWAYS_CHILD))
            .chain(std::iter::once(extra_child)),
    );
    let as_of = plan.as_of.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    // Checks that stream whole tables need the snapshots to stay open after the datasets are read.
    let keep_open = plan
        .checks
        .iter()
        .any(|c| crate::checks::streamer(c.name).is_some());
    let progress = plan.progress;
    crate::progress::emit(
        progress,
        crate::progress::Event::Reading {
            cells: 1 + children.len(),
        },
    );
    // The permit covers the dataset reads only: a snapshot kept open for streaming holds no slot, so the
    // instances check's parallel scans of parent and child never wait on each other.
    let limits = crate::limits::ReadLimits::new(plan.jobs.0, plan.jobs.1);
    let parent_read = crate::progress::cell_read(
        progress,
        read_one_limited(parent, &parent_sets, plan.timeouts, keep_open, &limits),
    );
    let child_reads = futures::future::join_all(children.iter().map(|c| {
        crate::progress::cell_read(
            progress,
            read_one_limited(c, &child_sets, plan.timeouts, keep_open, &limits),
        )
    }));
    let api_reads = read_apis(plan.apis, plan.timeouts, &limits);
    let ((pstatus, mut pdata, popen), creads, api_reads) =
        tokio::join!(parent_read, child_reads, api_reads);
    let (mut creads, copens): (Vec<_>, Vec<_>) =
        creads.into_iter().map(|(s, d, o)| ((s, d), o)).unzip();
    let sources = resolve_sources(
        parent,
        pdata.as_mut(),
        children,
        &mut creads,
        plan.apis,
        &api_reads,
    );
    let (ppool, psession) = popen.map_or((None, None), |(p, s)| (Some(p), Some(s)));
    let (cpools, csessions): (Vec<_>, Vec<_>) = copens
        .into_iter()
        .map(|o| o.map_or((None, None), |(p, s)| (Some(p), Some(s))))
        .unzip();
    let mut sessions = crate::checks::Sessions {
        parent: psession,
        children: csessions,
    };

    // Each API database is listed right after the cell whose nova.conf names it.
    let with_api = |s: &CellStatus| -> Vec<CellStatus> {
        let mut v = vec![s.clone()];
        v.extend(
            api_reads
                .iter()
                .filter(|(a, _)| a.name == api_status_name(&s.name))
                .map(|(a, _)| a.clone()),
        );
        v
    };
    let mut statuses = with_api(&pstatus);
    statuses.extend(creads.iter().flat_map(|(s, _)| with_api(s)));
    let mut report = Report::new("cells-v1", statuses);

    let Some(pdata) = pdata else {
        report.aborted = Some(format!(
            "the parent could not be read, so nothing can be compared: {}",
            pstatus.error.unwrap_or_default()
        ));
        report.finish();
        close_all(reopen(ppool, cpools, sessions)).await;
        return Audited {
            report,
            parent: None,
            children: creads.into_iter().map(|(s, d)| (s.name, d)).collect(),
            sources,
            default_az: plan.default_az.to_string(),
        };
    };

    if let Some(why) = not_nova(&pdata, NOVA_CELL_TABLES) {
        report.aborted = Some(format!(
            "the parent '{}' is not a Nova database ({why}), so nothing can be compared",
            parent.name
        ));
        report.finish();
        close_all(reopen(ppool, cpools, sessions)).await;
        return Audited {
            report,
            parent: None,
            children: creads.into_iter().map(|(s, d)| (s.name, d)).collect(),
            sources,
            default_az: plan.default_az.to_string(),
        };
    }

    report.findings.extend(creads.iter().filter_map(|(s, _)| {
        connectivity_finding(
            s,
            "child",
            "this child was not audited; its drift is unknown",
        )
    }));
    report
        .findings
        .extend(api_reads.iter().filter_map(|(s, _)| {
            connectivity_finding(
                s,
                "API database",
                "the aggregates and flavors this cell's release reads from it were not audited",
            )
        }));

    let views: Vec<CellView<'_>> = creads
        .iter()
        .map(|(s, d)| CellView {
            name: &s.name,
            data: d.as_ref(),
        })
        .collect();
    // Broker probes are network I/O, so they happen here and the brokers check only reads them.
    let brokers = if plan
        .checks
        .iter()
        .any(|c| c.name == crate::checks::brokers::CHECK)
    {
        let pview = CellView {
            name: &parent.name,
            data: Some(&pdata),
        };
        let cells: Vec<&CellView<'_>> = std::iter::once(&pview).chain(&views).collect();
        crate::progress::emit(plan.progress, crate::progress::Event::ProbingBrokers);
        let probes = crate::broker::probe_cells(&cells, plan.timeouts.connect).await;
        report.brokers = crate::broker::statuses(&probes);
        Some(probes)
    } else {
        None
    };
    let kept_sources = sources.clone();
    let mut ctx = V1Context {
        parent: CellView {
            name: &parent.name,
            data: Some(&pdata),
        },
        residency: Residency::build(&views),
        brokers,
        children: views,
        expect: plan.expect,
        ignore_flavor_access: plan.ignore_flavor_access,
        lag: plan.lag,
        as_of,
        streamed: Default::default(),
        instances_mode: plan.instances_mode,
        shared_api: crate::checks::shared_with_parent(&sources),
        sources,
        default_az: plan.default_az.to_string(),
        cells_config: plan
            .cells_config
            .iter()
            .map(|(k, p)| (k.clone(), crate::v1::cells_config(p)))
            .collect(),
    };
    // Streaming checks first, over the still-open snapshots, which are released right after.
    let mut streamed = std::collections::BTreeMap::new();
    for check in plan.checks {
        if let Some(stream) = crate::checks::streamer(check.name) {
            crate::progress::emit(
                plan.progress,
                crate::progress::Event::Streaming { name: check.name },
            );
            streamed.insert(check.name, stream(&ctx, &mut sessions).await);
        }
    }
    ctx.streamed = streamed;
    close_all(reopen(ppool, cpools, sessions)).await;
    for check in plan.checks {
        crate::progress::emit(
            plan.progress,
            crate::progress::Event::Check {
                name: check.name,
                index: plan
                    .checks
                    .iter()
                    .position(|c| c.name == check.name)
                    .map_or(0, |i| i + 1),
                total: plan.checks.len(),
            },
        );
        (check.run)(&ctx).record_in(check.name, &mut report);
    }
    let unaudited = unaudited_findings(&report, "child", |name| {
        ctx.children
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.data)
            .and_then(|d| not_nova(d, NOVA_CELL_TABLES))
    });
    report.findings.extend(unaudited);
    report.finish();
    Audited {
        report,
        parent: Some(pdata),
        children: creads.into_iter().map(|(s, d)| (s.name, d)).collect(),
        sources: kept_sources,
        default_az: plan.default_az.to_string(),
    }
}
