//! The opt-in `brokers` check for cells v1: turns the engine's broker probes into findings; it does no I/O itself.
//!
//! Cells v1 talks over each cell's message broker. The parent's `cells` row for a child names the
//! child's broker: when it is dead, the parent's nova-cells keeps casting into it and builds,
//! actions and deletes routed to that child hang or vanish, so the child should leave the parent's
//! registry until its broker is back. A child's row for its parent names the parent's broker: when
//! that is dead, the child's instance updates never reach the top.

use super::{CheckRun, V1Context, join_names};
use crate::broker::{Answer, RowProbe, Unprobed};
use crate::checks::ids::{Check, Kind};
use crate::findings::{Finding, Outcome, Severity};

pub const CHECK: Check = Check::Brokers;

pub fn brokers(ctx: &V1Context<'_>) -> CheckRun {
    let Some(probes) = ctx.brokers.as_ref() else {
        return CheckRun::skip_all(
            ctx,
            "the brokers were not probed (run with --brokers or --check brokers)".into(),
        );
    };
    let mut run = CheckRun::default();
    for cell in std::iter::once(&ctx.parent).chain(&ctx.children) {
        let o = match (cell.data, probes.unread.get(cell.name)) {
            (None, _) => Outcome::Unavailable,
            (Some(_), Some(reason)) => Outcome::Skipped {
                reason: reason.clone(),
            },
            (Some(_), None) => Outcome::Ran,
        };
        run.outcome(cell.name, o);
    }
    for row in &probes.rows {
        row_findings(row, &mut run.findings);
    }
    run
}

fn row_findings(row: &RowProbe, out: &mut Vec<Finding>) {
    let holder = row.registered_in.as_str();
    let name = row.name.as_str();
    // Findings belong to the database holding the row: that is where `nova-manage cell` fixes it.
    let (key_name, whose) = if row.is_parent {
        (
            "parent",
            format!("the parent '{name}' (as registered in {holder})"),
        )
    } else {
        (
            "cell",
            format!("child '{name}' (as registered in {holder})"),
        )
    };
    let brokers = match &row.brokers {
        Ok(b) => b,
        Err(Unprobed::Invalid(reason)) => {
            out.push(
                Finding::new(
                    CHECK,
                    Kind::TransportUrlInvalid,
                    Severity::Warning,
                    holder,
                    &[(key_name, name)],
                    format!("the transport_url of {whose} cannot be read: {reason}"),
                )
                .impact(
                    "nova-cells cannot parse it either and will not reach this neighbour; re-register it with a valid URL",
                ),
            );
            return;
        }
        Err(Unprobed::OtherDriver(scheme)) => {
            out.push(Finding::new(
                CHECK,
                Kind::BrokerNotProbed,
                Severity::Info,
                holder,
                &[(key_name, name)],
                format!(
                    "the transport of {whose} is '{scheme}', not AMQP 0-9-1 (rabbit): its brokers were not probed"
                ),
            ));
            return;
        }
    };
    let alive: Vec<String> = brokers
        .iter()
        .filter(|(_, a)| a.is_up())
        .map(|(e, _)| e.to_string())
        .collect();
    for (ep, answer) in brokers {
        let Answer::Down { reason } = answer else {
            continue;
        };
        let broker = ep.to_string();
        let message = format!("broker {broker} of {whose} does not answer: {reason}");
        let (severity, impact) = if !alive.is_empty() {
            (
                Severity::Warning,
                format!(
                    "oslo.messaging fails over to {}, but the broker cluster has lost redundancy",
                    join_names(&alive)
                ),
            )
        } else if row.is_parent {
            (
                Severity::Failure,
                format!(
                    "child '{holder}' cannot send instance updates, deletes and faults up to '{name}' (instance_update_at_top): the API shows stale instances until the broker is back; if the parent's broker moved, re-register it here with `nova-manage cell delete --cell_name {name}` and `nova-manage cell create --name {name} --cell_type parent ...`"
                ),
            )
        } else {
            (
                Severity::Failure,
                format!(
                    "'{holder}' keeps casting builds, actions and deletes to '{name}', which hang or are lost; take it out of the registry with `nova-manage cell delete --cell_name {name}` (run against {holder}) until its broker is back, then register it again with `nova-manage cell create --name {name} --cell_type child ...`"
                ),
            )
        };
        out.push(
            Finding::new(
                CHECK,
                if row.is_parent {
                    Kind::ParentBrokerUnreachable
                } else {
                    Kind::BrokerUnreachable
                },
                severity,
                holder,
                &[(key_name, name), ("broker", &broker)],
                message,
            )
            .impact(impact),
        );
    }
}
