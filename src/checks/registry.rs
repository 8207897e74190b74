//! The cells v1 registry check: the parent's neighbour list against the audited children, and each child's way back up.

use super::{CheckRun, V1Context};
use crate::findings::{Finding, Outcome, Severity};
use crate::v1;

const CHECK: &str = "cell_registry";

/// A cell's neighbours: from its `[cells] cells_config` file when one was given (Nova then ignores the
/// `cells` table, `nova/cells/state.py` `CellStateManagerFile`), else from the table.
fn neighbours(
    ctx: &V1Context<'_>,
    cell: &str,
    data: &crate::snapshot::CellData,
) -> Result<Vec<(String, bool)>, String> {
    match ctx.cells_config.get(cell) {
        Some(r) => r.clone(),
        None => v1::registrations(data),
    }
}

pub fn cell_registry(ctx: &V1Context<'_>) -> CheckRun {
    let from_file = ctx.cells_config.contains_key(ctx.parent.name);
    let parent = match ctx.parent.data.map(|d| neighbours(ctx, ctx.parent.name, d)) {
        Some(Ok(r)) => r,
        Some(Err(reason)) => return CheckRun::skip_all(ctx, reason),
        None => return CheckRun::skip_all(ctx, "parent unreadable".into()),
    };
    let source = if from_file {
        "cells_config file"
    } else {
        "`cells` table"
    };
    let mut run = CheckRun::default();
    let registered: Vec<&str> = parent
        .iter()
        .filter(|(_, is_parent)| !is_parent)
        .map(|(n, _)| n.as_str())
        .collect();
    let audited = ctx.child_names();
    let pname = ctx.parent.name;
    run.outcome(pname, Outcome::Ran);

    if registered.is_empty() {
        run.findings.push(
            Finding::new(
                CHECK,
                "registry_empty",
                Severity::Warning,
                pname,
                &[("cell", pname)],
                format!("the parent '{pname}' has no live child rows in its {source}"),
            )
            .impact(if from_file {
                "the parent routes nothing to any child"
            } else {
                "the neighbour list may live in a [cells] cells_config JSON file instead (give it with --cells-config FILE); otherwise the parent routes nothing to any child"
            }),
        );
    } else {
        for child in &audited {
            if !registered.contains(child) {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "not_registered",
                        Severity::Failure,
                        child,
                        &[("cell", child)],
                        format!("child '{child}' is audited but the parent's {source} has no live entry named '{child}'"),
                    )
                    .impact("the parent's nova-cells never routes builds or actions to this child; add it with `nova-manage cell create` at the parent")
                    .values(None::<String>, Some(*child)),
                );
            }
        }
        for name in &registered {
            if !audited.contains(name) {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "registered_not_audited",
                        Severity::Warning,
                        pname,
                        &[("cell", name)],
                        format!("the parent registers child '{name}' but no database was given for it, so it was not audited"),
                    )
                    .impact("drift in that child goes unnoticed; add it with --child or [[child]] (or remove a stale registration)")
                    .values(Some(*name), None::<String>),
                );
            }
        }
    }

    for child in &ctx.children {
        let Some(data) = child.data else {
            run.outcome(child.name, Outcome::Unavailable);
            continue;
        };
        let rows = match neighbours(ctx, child.name, data) {
            Ok(r) => r,
            Err(reason) => {
                run.outcome(child.name, Outcome::Skipped { reason });
                continue;
            }
        };
        run.outcome(child.name, Outcome::Ran);
        if !rows.iter().any(|(_, is_parent)| *is_parent) {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "parent_not_registered",
                    Severity::Failure,
                    child.name,
                    &[("cell", child.name)],
                    format!("child '{}' has no live `cells` row with is_parent=1: it does not know its parent", child.name),
                )
                .impact("instance updates and deletes (instance_update_at_top) never reach the parent: the API shows stale or missing instances; register the parent in this child with `nova-manage cell create --cell_type parent`"),
            );
        }
    }
    run
}
