//! The `request_specs` check: every live instance has a request spec, no spec outlives its instance, and no spec pins
//! an AZ that has no hosts left.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2;
use std::collections::{BTreeMap, BTreeSet};

const CHECK: &str = "request_specs";

pub fn request_specs(ctx: &V2Context<'_>) -> CheckRun {
    let read = ctx.api_read(|api| {
        Ok((
            v2::request_specs(api)?,
            v2::api_aggregates(api)?,
            v2::api_mappings(api)?,
        ))
    });
    let (specs, aggs, mappings) = match read {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::instances(d).map(|_| ()));
    // uuid -> (cell, deleted) of every copy read.
    let mut seen: BTreeMap<String, Vec<(&str, bool)>> = BTreeMap::new();
    let mut live: Vec<(&str, v2::Instance)> = Vec::new();
    for (cell, data) in ctx.readable() {
        let Ok(list) = v2::instances(data) else {
            continue;
        };
        for i in list {
            seen.entry(i.uuid.clone())
                .or_default()
                .push((cell.name, i.deleted));
            if i.visible() {
                live.push((cell.name, i));
            }
        }
    }

    // Every instance gets its spec at boot (nova/compute/api.py @17.0.0 _provision_instances creates the
    // RequestSpec before the build request); instances older than Newton got one from the online migration
    // migrate_instances_add_request_spec (nova/objects/request_spec.py @17.0.0). nova-status's "Request Spec
    // Migration" check (Rocky, nova/cmd/status.py @18.0.0) refused to upgrade while any was missing.
    for (cell, i) in &live {
        if specs.contains_key(&i.uuid) {
            continue;
        }
        run.findings.push(
            Finding::new(
                CHECK,
                "missing",
                Severity::Warning,
                cell,
                &[("instance", &i.uuid)],
                format!("live instance {} in {cell} has no request spec", i.label()),
            )
            .impact("migrate, evacuate and unshelve need the spec: they fail or schedule without the user's AZ and hints; `nova-manage db online_data_migrations` (through Rocky) recreates specs"),
        );
    }

    // A spec whose instance is in no cell at all, not even soft-deleted, and which nothing is building.
    if ctx.unknown().is_empty() {
        for uuid in specs.keys() {
            if seen.contains_key(uuid) || mappings.build_requests.contains_key(uuid) {
                continue;
            }
            let mapped = mappings.instances.contains_key(uuid);
            run.findings.push(
                Finding::new(
                    CHECK,
                    "orphan",
                    Severity::Info,
                    ctx.api.name,
                    &[("instance", uuid)],
                    format!(
                        "request spec of instance {uuid}, which no cell has (archived or never built){}",
                        if mapped { "; its instance mapping is left too" } else { "" }
                    ),
                )
                .impact("left by `nova-manage db archive_deleted_rows` before Queens (17.0.0 deletes specs and mappings as it archives) or by a boot that failed before reaching a cell; only takes space; safe to delete"),
            );
        }
    }

    // AZs that still have a member host, plus the default AZ (hosts in no AZ aggregate).
    let with_hosts: BTreeSet<&str> = aggs
        .iter()
        .filter(|a| !a.hosts.is_empty())
        .filter_map(|a| a.az())
        .chain(std::iter::once(ctx.default_az))
        .collect();
    let mut stranded: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, i) in &live {
        if let Some(az) = specs
            .get(&i.uuid)
            .and_then(|s| s.availability_zone.as_deref())
            && !with_hosts.contains(az)
        {
            stranded.entry(az).or_default().push(i.uuid.as_str());
        }
    }
    for (az, uuids) in stranded {
        let shown: Vec<&str> = uuids.iter().take(3).copied().collect();
        run.findings.push(
            Finding::new(
                CHECK,
                "az_without_hosts",
                Severity::Warning,
                ctx.api.name,
                &[("availability_zone", az)],
                format!(
                    "{} live instance{} pinned to AZ '{az}' by request spec, which no aggregate gives any host (e.g. {})",
                    uuids.len(),
                    if uuids.len() == 1 { " is" } else { "s are" },
                    join_names(&shown)
                ),
            )
            .impact("every migrate, evacuate or unshelve of them fails with NoValidHost until a host is added to an aggregate with that AZ (or the specs are changed)")
            .values(None::<()>, &uuids),
        );
    }
    run
}
