//! Runs an audit: reads every cell concurrently, each in its own snapshot, then runs the checks over the snapshots.

use crate::checks::{CellView, CheckDef, Expect, Residency, V1_ALWAYS_CHILD, V1Context};
use crate::config::{AuditConfig, CellSpec};
use crate::db::{Pool, Timeouts};
use crate::findings::{CellState, CellStatus, CheckOutcome, Finding, Report, Severity};
use crate::queries::Dataset;
use crate::snapshot::{CellData, read_cell};

/// Reads one cell; any error comes back as one line with the password scrubbed.
async fn read_one(
    spec: &CellSpec,
    sets: &[&'static Dataset],
    timeouts: Timeouts,
) -> (CellStatus, Option<CellData>) {
    let mut status = CellStatus {
        name: spec.name.clone(),
        role: spec.role,
        status: CellState::Ok,
        error: None,
        url: spec.shown.clone(),
        schema_version: None,
    };
    let url = match &spec.url {
        Ok(u) => u,
        Err(e) => {
            status.status = CellState::Misconfigured;
            status.error = Some(e.clone());
            return (status, None);
        }
    };
    let result = async {
        let pool = Pool::connect(url, timeouts).await?;
        let data = read_cell(&pool, sets, timeouts).await;
        pool.close().await;
        data
    }
    .await;
    match result {
        Ok(data) => {
            status.schema_version = data.schema_version.clone();
            (status, Some(data))
        }
        Err(e) => {
            status.status = CellState::Unreachable;
            status.error = Some(url.scrub(&format!("cell '{}' ({}): {e}", spec.name, status.url)));
            (status, None)
        }
    }
}

fn union(sets: impl IntoIterator<Item = &'static [&'static Dataset]>) -> Vec<&'static Dataset> {
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
    pub expect: Expect,
    pub timeouts: Timeouts,
    pub ignore_flavor_access: bool,
}

pub async fn audit_v1(cfg: &AuditConfig) -> Report {
    let plan = V1Plan {
        checks: &cfg.checks,
        expect: cfg.expect,
        timeouts: cfg.timeouts,
        ignore_flavor_access: cfg.ignore_flavor_access,
    };
    audit_v1_cells(&cfg.parent, &cfg.children, &plan).await
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
    let parent_read = read_one(parent, &parent_sets, plan.timeouts);
    let child_reads = futures::future::join_all(
        children
            .iter()
            .map(|c| read_one(c, &child_sets, plan.timeouts)),
    );
    let ((pstatus, pdata), creads) = tokio::join!(parent_read, child_reads);

    let mut statuses = vec![pstatus.clone()];
    statuses.extend(creads.iter().map(|(s, _)| s.clone()));
    let mut report = Report::new("cells-v1", statuses);

    let Some(pdata) = pdata else {
        report.aborted = Some(format!(
            "the parent could not be read, so nothing can be compared: {}",
            pstatus.error.unwrap_or_default()
        ));
        report.finish();
        return Audited {
            report,
            parent: None,
            children: creads.into_iter().map(|(s, d)| (s.name, d)).collect(),
        };
    };

    for (s, _) in &creads {
        if s.status != CellState::Ok {
            let (kind, what) = match s.status {
                CellState::Misconfigured => ("cell_misconfigured", "is misconfigured"),
                _ => ("cell_unreachable", "could not be read"),
            };
            report.findings.push(
                Finding::new(
                    "connectivity",
                    kind,
                    Severity::Failure,
                    &s.name,
                    &[("cell", &s.name)],
                    format!(
                        "child '{}' {what}: {}",
                        s.name,
                        s.error.clone().unwrap_or_default()
                    ),
                )
                .impact("this child was not audited; its drift is unknown"),
            );
        }
    }

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
        let probes = crate::broker::probe_cells(&cells, plan.timeouts.connect).await;
        report.brokers = crate::broker::statuses(&probes);
        Some(probes)
    } else {
        None
    };
    let ctx = V1Context {
        parent: CellView {
            name: &parent.name,
            data: Some(&pdata),
        },
        residency: Residency::build(&views),
        brokers,
        children: views,
        expect: plan.expect,
        ignore_flavor_access: plan.ignore_flavor_access,
    };
    for check in plan.checks {
        let run = (check.run)(&ctx);
        report.findings.extend(run.findings);
        report.checks.extend(
            run.outcomes
                .into_iter()
                .map(|(cell, outcome)| CheckOutcome {
                    check: check.name,
                    cell,
                    outcome,
                }),
        );
    }
    report.finish();
    Audited {
        report,
        parent: Some(pdata),
        children: creads.into_iter().map(|(s, d)| (s.name, d)).collect(),
    }
}
