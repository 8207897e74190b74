//! The derived availability-zone check: the AZ each compute host is in as the parent sees it and as its own child sees it.

use super::aggregates::prepare;
use super::{CheckRun, V1Context, join_names};
use crate::checks::ids::{Check, Kind};
use crate::findings::{Finding, Severity};
use crate::v1::{Aggregates, HostRef};
use std::collections::{BTreeMap, BTreeSet};

const CHECK: Check = Check::AvailabilityZones;

/// Host → the AZs its aggregates give it in one database (empty: the default AZ).
fn zones_by_host(aggs: &Aggregates) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for agg in aggs.iter() {
        if let Some(az) = agg.az() {
            for raw in &agg.hosts {
                out.entry(HostRef::parse(raw).host)
                    .or_default()
                    .insert(az.to_string());
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
        Kind::HostInMultipleAzs,
        Severity::Failure,
        cell,
        &[("host", host)],
        format!("host '{host}' is in {} {where_}", shown(Some(zones))),
    )
    .impact("Nova forbids a host in two AZs; which one applies depends on aggregate order")
}

pub fn availability_zones(ctx: &V1Context<'_>) -> CheckRun {
    let p = match prepare(ctx) {
        Ok(p) => p,
        Err(run) => return run,
    };
    let mut run = p.run;
    let parent_zones = zones_by_host(&p.parent);
    for (host, zones) in &parent_zones {
        if zones.len() > 1 {
            run.findings
                .push(multi(ctx.parent.name, host, zones, "in the parent"));
        }
    }
    for (cell, child) in &p.children {
        let child_zones = zones_by_host(child);
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
                        Kind::AzDiffers,
                        Severity::Failure,
                        cell,
                        &[("host", host)],
                        format!("host '{host}' is in {} at the parent but in {} in {cell}", shown(pz), shown(cz)),
                    )
                    .impact(format!(
                        "the API lists and validates AZs from the parent, {cell}'s scheduler filters by its own: boots into {} cannot land on '{host}'",
                        shown(pz)
                    ))
                    .values(value(pz), value(cz)),
                );
            }
        }
    }
    run
}
