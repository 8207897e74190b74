//! The `cell_mappings` check: cell0 is registered, and disabled cells are noted (they are audited all the same).

use super::super::CheckRun;
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2::CELL0_UUID;

const CHECK: &str = "cell_mappings";

pub fn cell_mappings(ctx: &V2Context<'_>) -> CheckRun {
    let mut run = CheckRun::v2_outcomes(ctx, |_| Ok(()));
    if !ctx.cells.iter().any(|c| c.cell0) {
        run.findings.push(
            Finding::new(
                CHECK,
                "no_cell0",
                Severity::Failure,
                ctx.api.name,
                &[("cell", CELL0_UUID)],
                format!("cell_mappings has no cell0 (uuid {CELL0_UUID})"),
            )
            .impact("instances that fail to schedule have nowhere to go; `nova-manage cell_v2 map_cell0` creates it"),
        );
    }
    if !ctx.cells.iter().any(|c| !c.cell0) {
        run.findings.push(
            Finding::new(
                CHECK,
                "no_cells",
                Severity::Failure,
                ctx.api.name,
                &[("cell", "*")],
                "cell_mappings has no cell besides cell0".to_string(),
            )
            .impact("no compute host can be mapped; `nova-manage cell_v2 create_cell` creates one"),
        );
    }
    // Nova refuses a second mapping with the same database_connection string only from Queens
    // (nova/cmd/manage.py @17.0.0, _non_unique_transport_url_database_connection_checker), and even then not a
    // second spelling of it; compared here by server and database name as read.
    let mut by_db: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for c in ctx.audited() {
        if let Some(db) = c.database.as_deref() {
            by_db.entry(db).or_default().push(c.name);
        }
    }
    for (_, names) in by_db.iter().filter(|(_, n)| n.len() > 1) {
        run.findings.push(
            Finding::new(
                CHECK,
                "cells_share_database",
                Severity::Failure,
                ctx.api.name,
                &[("cell", names[1])],
                format!(
                    "cell mappings {} point at one database",
                    super::super::join_names(names)
                ),
            )
            .impact("every instance and host of that database appears in both cells: the scheduler and the API see each twice, and deleting one cell's mapping orphans instances of the other; remove the extra mapping (`nova-manage cell_v2 delete_cell`) once nothing is mapped to it")
            .values(None::<()>, names),
        );
    }
    for c in ctx.audited().filter(|c| c.disabled) {
        run.findings.push(
            Finding::new(
                CHECK,
                "cell_disabled",
                Severity::Info,
                c.name,
                &[("cell", c.name)],
                format!(
                    "cell {} ({}) is disabled in cell_mappings; it was audited all the same",
                    c.name, c.uuid
                ),
            )
            .impact("the scheduler places no new instances in a disabled cell; existing ones keep running"),
        );
    }
    run
}
