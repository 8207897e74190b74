//! The `host_mappings` check: API DB host mappings against the compute nodes and nova-compute services of every cell.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2::{self, CellHosts};
use std::collections::BTreeSet;

const CHECK: &str = "host_mappings";

pub fn host_mappings(ctx: &V2Context<'_>) -> CheckRun {
    let mappings = match ctx.api_read(v2::host_mappings) {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::cell_hosts(d).map(|_| ()));
    let hosts: Vec<(&super::V2Cell<'_>, CellHosts)> = ctx
        .readable()
        .filter_map(|(c, d)| v2::cell_hosts(d).ok().map(|h| (c, h)))
        .collect();

    for (cell, h) in &hosts {
        let mut seen = BTreeSet::new();
        for node in &h.nodes {
            if mappings.contains_key(&node.host) || !seen.insert(node.host.as_str()) {
                continue;
            }
            let stale = h
                .nodes
                .iter()
                .any(|n| n.host == node.host && n.mapped == Some(true));
            let flagless = node.mapped.is_none();
            let (kind, why) = if flagless {
                // Before Pike (main migration 360) there is no `mapped` flag: discover_hosts walks every
                // compute node and maps the ones without a host mapping
                // (nova/objects/host_mapping.py::discover_hosts @15.0.0, ComputeNodeList.get_all).
                (
                    "unmapped",
                    "`nova-manage cell_v2 discover_hosts` will map it",
                )
            } else if stale {
                (
                    "unmapped_flag_stale",
                    "compute_nodes.mapped is 1, so `nova-manage cell_v2 discover_hosts` skips it; `discover_hosts --by-service` (or resetting mapped to 0) maps it again",
                )
            } else {
                (
                    "unmapped",
                    "compute_nodes.mapped is 0: `nova-manage cell_v2 discover_hosts` will map it",
                )
            };
            run.findings.push(
                Finding::new(
                    CHECK,
                    kind,
                    Severity::Failure,
                    cell.name,
                    &[("host", &node.host)],
                    format!(
                        "compute host '{}' in {} has no host mapping; {why}",
                        node.host, cell.name
                    ),
                )
                .impact("the scheduler never places instances on it, and os-aggregates cannot add it (HostMappingNotFound)"),
            );
        }
        let node_hosts = h.node_hosts();
        for host in &h.services {
            if node_hosts.contains(host.as_str()) || mappings.contains_key(host) {
                continue;
            }
            run.findings.push(
                Finding::new(
                    CHECK,
                    "service_unmapped",
                    Severity::Warning,
                    cell.name,
                    &[("host", host)],
                    format!(
                        "nova-compute service on '{host}' in {} has no compute node and no host mapping; plain `discover_hosts` looks only at compute nodes, `discover_hosts --by-service` maps it",
                        cell.name
                    ),
                )
                .impact("a nodeless service (e.g. ironic before its nodes appear) cannot be added to aggregates or scheduled to until mapped"),
            );
        }
    }

    let unknown = ctx.unknown();
    for (host, cell_uuid) in &mappings {
        let Some(target) = ctx.cell(cell_uuid) else {
            continue;
        };
        let lives: Vec<&str> = hosts
            .iter()
            .filter(|(_, h)| h.has_host(host))
            .map(|(c, _)| c.name)
            .collect();
        if lives.contains(&target.name) {
            continue;
        }
        if !lives.is_empty() {
            if target.data.is_none() {
                continue;
            }
            run.findings.push(
                Finding::new(
                    CHECK,
                    "mapped_to_wrong_cell",
                    Severity::Failure,
                    ctx.api.name,
                    &[("host", host)],
                    format!(
                        "host mapping sends '{host}' to {}, but it lives in {}",
                        target.name,
                        join_names(&lives)
                    ),
                )
                .impact(format!(
                    "instances scheduled to '{host}' are built in {}'s database, where no such compute exists",
                    target.name
                ))
                .values(target.name, join_names(&lives)),
            );
            continue;
        }
        if !unknown.is_empty() {
            continue;
        }
        let deleted_in: Vec<&str> = hosts
            .iter()
            .filter(|(_, h)| h.deleted_services.contains(host))
            .map(|(c, _)| c.name)
            .collect();
        let note = if deleted_in.is_empty() {
            String::new()
        } else {
            format!(" (its service in {} is deleted)", join_names(&deleted_in))
        };
        run.findings.push(
            Finding::new(
                CHECK,
                "mapping_host_gone",
                Severity::Warning,
                ctx.api.name,
                &[("host", host)],
                format!(
                    "host mapping for '{host}' ({}) names a host with no live nova-compute service or compute node in any cell{note}",
                    target.name
                ),
            )
            .impact("a stale mapping: `nova-manage cell_v2 delete_host` removes it; aggregates may still accept the host"),
        );
    }
    run
}
