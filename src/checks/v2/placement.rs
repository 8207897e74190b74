//! The `instance_hosts` check: each instance's host is a compute host of its own cell, and its AZ is that host's AZ.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2::{self, CellHosts};
use std::collections::BTreeSet;

const CHECK: &str = "instance_hosts";

pub fn instance_hosts(ctx: &V2Context<'_>) -> CheckRun {
    let aggs = match ctx.api_read(v2::api_aggregates) {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let zones = v2::host_zones(&aggs);
    // Before Newton's request specs were migrated there may be none; no spec means "not pinned" here
    // (the request_specs check reports the missing ones).
    let specs = ctx
        .api
        .data
        .and_then(|d| v2::request_specs(d).ok())
        .unwrap_or_default();
    let mut run = CheckRun::v2_outcomes(ctx, |d| {
        v2::cell_hosts(d)?;
        v2::instances(d).map(|_| ())
    });
    let hosts: Vec<(&str, CellHosts)> = ctx
        .readable()
        .filter_map(|(c, d)| v2::cell_hosts(d).ok().map(|h| (c.name, h)))
        .collect();

    for (cell, data) in ctx.readable() {
        // cell0 holds only instances that never reached a host.
        if cell.cell0 {
            continue;
        }
        let (Some((_, own)), Ok(instances)) = (
            hosts.iter().find(|(n, _)| *n == cell.name),
            v2::instances(data),
        ) else {
            continue;
        };
        for i in instances.iter().filter(|i| !i.deleted) {
            let Some(host) = i.host.as_deref() else {
                continue;
            };
            let key = [("instance", i.uuid.as_str())];
            if !own.has_host(host) {
                let elsewhere: Vec<&str> = hosts
                    .iter()
                    .filter(|(n, h)| *n != cell.name && h.has_host(host))
                    .map(|(n, _)| *n)
                    .collect();
                let (severity, where_) = if elsewhere.is_empty() {
                    let unread: Vec<&str> = ctx
                        .cells
                        .iter()
                        .filter(|c| c.data.is_none() && !c.cell0)
                        .map(|c| c.name)
                        .collect();
                    let note = if unread.is_empty() {
                        String::new()
                    } else {
                        format!(" (not read: {})", join_names(&unread))
                    };
                    (
                        Severity::Warning,
                        format!("no cell read has a compute host of that name{note}"),
                    )
                } else {
                    (
                        Severity::Failure,
                        format!("it is a compute host of {}", join_names(&elsewhere)),
                    )
                };
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "host_not_in_cell",
                        severity,
                        cell.name,
                        &key,
                        format!(
                            "instance {} in {} is on host '{host}', which is not a compute host of {}; {where_}",
                            i.label(),
                            cell.name,
                            cell.name
                        ),
                    )
                    .impact(format!(
                        "no compute in {} manages it: actions on it time out and its resources are not tracked",
                        cell.name
                    )),
                );
                continue;
            }
            if i.hidden {
                continue;
            }
            // instances.availability_zone is not compared: the conductor rewrites it to the destination host's AZ
            // on every move (conductor/tasks/migrate.py and live_migrate.py @20.0.0, get_host_availability_zone),
            // the API shows the AZ derived from the host, and Nova lets an operator move a host with instances
            // into another AZ aggregate. What constrains scheduling is the AZ the user asked for, kept in
            // request_specs.spec (RequestSpec.availability_zone, nova/objects/request_spec.py @20.0.0).
            let Some(az) = specs
                .get(&i.uuid)
                .and_then(|s| s.availability_zone.as_deref())
            else {
                continue;
            };
            let host_azs: BTreeSet<&str> = zones
                .get(host)
                .map(|z| z.iter().map(|(_, az)| *az).collect())
                .unwrap_or_default();
            // A host in two AZs is reported by api_aggregates; which one applies here is undefined.
            let host_az = match host_azs.len() {
                0 => ctx.default_az,
                1 => host_azs.iter().next().copied().unwrap_or_default(),
                _ => continue,
            };
            if az != host_az {
                let how = if host_azs.is_empty() {
                    "is in no AZ aggregate, so in the default AZ"
                } else {
                    "is in AZ"
                };
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "az_mismatch",
                        Severity::Warning,
                        cell.name,
                        &key,
                        format!(
                            "instance {} was requested in AZ '{az}' (its request spec), but its host '{host}' {how} '{host_az}'",
                            i.label()
                        ),
                    )
                    .impact(format!("the instance runs outside the AZ its user pinned (the host's aggregate changed, or it was moved to a forced host); the next migrate, evacuate or unshelve is scheduled only to hosts of '{az}', and fails with NoValidHost if none has room"))
                    .values(host_az, az),
                );
            }
        }
    }
    run
}
