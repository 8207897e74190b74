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

    live_in_several_cells(ctx, &hosts, &mappings, &mut run);
    duplicate_nodes(ctx, &hosts, &mut run);

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

/// A host with a live nova-compute service in two cells (a second service started with another cell's config, or
/// a host moved to another cell with its old service row left). The conductor builds an instance in the cell its
/// `host_mappings` row names (conductor/manager.py @20.0.0, schedule_and_build_instances looks up
/// HostMapping.get_by_host), while the scheduler may pick the host from either cell's compute nodes.
fn live_in_several_cells(
    ctx: &V2Context<'_>,
    hosts: &[(&super::V2Cell<'_>, CellHosts)],
    mappings: &std::collections::BTreeMap<String, String>,
    run: &mut CheckRun,
) {
    let mut by_host: std::collections::BTreeMap<&str, Vec<(&str, &v2::ComputeService)>> =
        std::collections::BTreeMap::new();
    for (cell, h) in hosts {
        for s in &h.service_rows {
            by_host.entry(&s.host).or_default().push((cell.name, s));
        }
    }
    for (host, rows) in by_host {
        let cells: Vec<&str> = rows.iter().map(|(c, _)| *c).collect();
        let cells = ctx.distinct_databases(&cells);
        if cells.len() < 2 {
            continue;
        }
        let mapped = mappings.get(host).map(|u| ctx.cell_name(u));
        let seen: Vec<String> = rows
            .iter()
            .filter(|(c, _)| cells.contains(c))
            .map(|(c, s)| {
                let when = s
                    .seen_at
                    .map(|t| format!("last seen {}s before the audit", ctx.now - t))
                    .unwrap_or_else(|| "never seen".into());
                let off = if s.disabled { ", disabled" } else { "" };
                format!("{c} ({when}{off})")
            })
            .collect();
        run.findings.push(
            Finding::new(
                CHECK,
                "host_live_in_several_cells",
                Severity::Failure,
                ctx.api.name,
                &[("host", host)],
                format!(
                    "'{host}' has a live nova-compute service in {}; its host mapping points to {}",
                    join_names(&seen),
                    mapped.unwrap_or("no cell")
                ),
            )
            .impact("the scheduler can pick the host through either cell's compute node, but the conductor builds the instance in the mapped cell: instances land in the wrong cell's database (and placement refuses a second provider with the node's name); delete the stale service (`openstack compute service delete`) in the cell the host left")
            .values(mapped, &cells),
        );
    }
}

/// Two live compute nodes with one hypervisor_hostname: a node recreated with a new uuid (a rebuilt host, a
/// renamed service) while the old row stayed. Placement's resource provider names are unique, so the new node's
/// provider cannot be created and the host never takes instances (nova/scheduler/client/report.py
/// @20.0.0 _create_resource_provider: 409 "Conflicting resource provider name").
fn duplicate_nodes(
    ctx: &V2Context<'_>,
    hosts: &[(&super::V2Cell<'_>, CellHosts)],
    run: &mut CheckRun,
) {
    let mut by_name: std::collections::BTreeMap<&str, Vec<(&str, &v2::ComputeNode)>> =
        std::collections::BTreeMap::new();
    for (cell, h) in hosts {
        for n in &h.nodes {
            if let Some(hv) = n.hypervisor_hostname.as_deref() {
                by_name.entry(hv).or_default().push((cell.name, n));
            }
        }
    }
    for (hv, rows) in by_name {
        // Rows read twice through two mappings of one database are one row.
        let mut distinct: Vec<(&str, &v2::ComputeNode)> = Vec::new();
        for (c, n) in rows {
            if !distinct
                .iter()
                .any(|(dc, dn)| ctx.same_database(dc, c) && dn.uuid == n.uuid)
            {
                distinct.push((c, n));
            }
        }
        // One service host with a node of this name in two cells is the host_live_in_several_cells fact.
        if distinct.len() < 2 || distinct.iter().all(|(_, n)| n.host == distinct[0].1.host) {
            continue;
        }
        let list: Vec<String> = distinct
            .iter()
            .map(|(c, n)| {
                format!(
                    "{} on host '{}' in {c}",
                    n.uuid.as_deref().unwrap_or("(no uuid)"),
                    n.host
                )
            })
            .collect();
        let uuids: Vec<&str> = distinct
            .iter()
            .filter_map(|(_, n)| n.uuid.as_deref())
            .collect();
        run.findings.push(
            Finding::new(
                CHECK,
                "duplicate_compute_node",
                Severity::Failure,
                distinct[0].0,
                &[("hypervisor_hostname", hv)],
                format!(
                    "{} live compute nodes are named '{hv}': {}",
                    distinct.len(),
                    join_names(&list)
                ),
            )
            .impact("placement refuses a second resource provider with the same name, so the newer node gets no provider and the host takes no instances; delete the stale compute node (its service) so the provider can be recreated")
            .values(None::<()>, uuids),
        );
    }
}
