//! The derived availability-zone check: the AZ each compute host is in as the parent sees it and as its own child sees it.

use super::aggregates::prepare_with;
use super::{CheckRun, V1Context, join_names};
use crate::findings::{Finding, Severity};
use crate::v1::{Aggregates, HostRef};
use std::collections::{BTreeMap, BTreeSet};

const CHECK: &str = "availability_zones";

/// Host → the AZs its aggregates give it in one database (none: the default AZ, which an aggregate
/// naming the default AZ also leaves it in).
pub(super) fn zones_by_host(
    aggs: &Aggregates,
    default_az: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for agg in aggs.all() {
        if let Some(az) = agg.zone(default_az) {
            for raw in &agg.hosts {
                out.entry(HostRef::parse(raw).host)
                    .or_default()
                    .insert(az.to_string());
            }
        }
    }
    out
}

/// Whether the top derives a host's AZ only from members named `path!cell@host`: from Pike (16.0.0)
/// `availability_zones.get_availability_zones` lists services through `compute.HostAPI`, which under
/// cells v1 is `nova/compute/cells_api.py` `HostAPI`, whose services carry `path!cell@host` names
/// (`nova/cells/utils.py` `ServiceProxy`); the requested-AZ check in `nova/compute/api.py` uses that list.
/// Older releases and schemas of no known release keep reading plain and qualified members alike.
pub(super) fn strict_top(ctx: &V1Context<'_>) -> bool {
    ctx.sources
        .iter()
        .find(|s| s.cell == ctx.parent.name)
        .and_then(|s| s.release)
        .is_some_and(|r| {
            (crate::release::Release::PIKE..=crate::release::Release::STEIN).contains(&r)
        })
}

/// Host → the AZs the top gives the hosts of child `cell`.
pub(super) fn top_zones(
    ctx: &V1Context<'_>,
    aggs: &Aggregates,
    cell: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    if !strict_top(ctx) {
        return zones_by_host(aggs, &ctx.default_az);
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for agg in aggs.all() {
        if let Some(az) = agg.zone(&ctx.default_az) {
            for raw in &agg.hosts {
                let r = HostRef::parse(raw);
                if r.cell.as_deref() == Some(cell) {
                    out.entry(r.host).or_default().insert(az.to_string());
                }
            }
        }
    }
    out
}

fn shown(zones: Option<&BTreeSet<String>>) -> String {
    match zones {
        None => "the default AZ".to_string(),
        Some(z) if z.is_empty() => "the default AZ".to_string(),
        Some(z) => format!("AZ {}", join_names(z.iter().map(|s| format!("'{s}'")))),
    }
}

fn value(zones: Option<&BTreeSet<String>>) -> serde_json::Value {
    match zones.map(|z| z.iter().collect::<Vec<_>>()) {
        None => serde_json::Value::Null,
        Some(v) if v.is_empty() => serde_json::Value::Null,
        Some(v) if v.len() == 1 => serde_json::json!(v[0]),
        Some(v) => serde_json::json!(v),
    }
}

fn multi(cell: &str, host: &str, zones: &BTreeSet<String>, where_: &str) -> Finding {
    Finding::new(
        CHECK,
        "host_in_multiple_azs",
        Severity::Failure,
        cell,
        &[("host", host)],
        format!("host '{host}' is in {} {where_}", shown(Some(zones))),
    )
    .impact("Nova forbids a host in two AZs; which one applies depends on aggregate order")
}

pub fn availability_zones(ctx: &V1Context<'_>) -> CheckRun {
    let p = match prepare_with(ctx, true) {
        Ok(p) => p,
        Err(run) => return run,
    };
    let mut run = p.run;
    let parent_zones = zones_by_host(&p.parent, &ctx.default_az);
    for (host, zones) in &parent_zones {
        if zones.len() > 1 {
            run.findings
                .push(multi(ctx.parent.name, host, zones, "in the parent"));
        }
    }
    let strict = strict_top(ctx);
    for (cell, child) in &p.children {
        let child_zones = zones_by_host(child, &ctx.default_az);
        let parent_zones = top_zones(ctx, &p.parent, cell);
        let hosts = ctx
            .children
            .iter()
            .find(|c| c.name == *cell)
            .and_then(|c| c.data)
            .and_then(|d| crate::v1::compute_hosts(d).ok())
            .unwrap_or_default();
        for host in &hosts {
            let pz = parent_zones.get(host);
            let cz = child_zones.get(host);
            if let Some(z) = cz.filter(|z| z.len() > 1) {
                run.findings
                    .push(multi(cell, host, z, &format!("in {cell}")));
                continue;
            }
            if pz.is_some_and(|z| z.len() > 1) {
                continue;
            }
            let norm = |z: Option<&BTreeSet<String>>| z.cloned().unwrap_or_default();
            if norm(pz) != norm(cz) {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "az_differs",
                        Severity::Failure,
                        cell,
                        &[("host", host)],
                        format!(
                            "host '{host}' is in {} at the parent{} but in {} in {cell}",
                            shown(pz),
                            if strict { format!(" (members named ...!{cell}@{host})") } else { String::new() },
                            shown(cz)
                        ),
                    )
                    .impact(format!(
                        "the API lists and validates AZs from the parent, {cell}'s scheduler filters by the AZ values of its own aggregates: boots into {} cannot land on '{host}'",
                        shown(pz)
                    ))
                    .values(value(pz), value(cz)),
                );
            }
        }
    }
    run
}
