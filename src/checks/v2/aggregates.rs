//! The `api_aggregates` check: API DB aggregate members against host mappings and the cells' services and nodes.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2::{self, CellHosts};
use std::collections::BTreeSet;

const CHECK: &str = "api_aggregates";

pub fn api_aggregates(ctx: &V2Context<'_>) -> CheckRun {
    let read = ctx.api_read(|api| Ok((v2::api_aggregates(api)?, v2::host_mappings(api)?)));
    let (aggs, mappings) = match read {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::cell_hosts(d).map(|_| ()));
    let hosts: Vec<(&str, CellHosts)> = ctx
        .readable()
        .filter_map(|(c, d)| v2::cell_hosts(d).ok().map(|h| (c.name, h)))
        .collect();
    let unknown = ctx.unknown();

    for agg in &aggs {
        for member in &agg.hosts {
            if hosts.iter().any(|(_, h)| h.has_host(member)) {
                continue;
            }
            let key = [("aggregate", agg.name.as_str()), ("host", member.as_str())];
            let by_hv: BTreeSet<(&str, &str)> = hosts
                .iter()
                .flat_map(|(cell, h)| {
                    h.nodes
                        .iter()
                        .filter(|n| n.hypervisor_hostname.as_deref() == Some(member.as_str()))
                        .map(move |n| (n.host.as_str(), *cell))
                })
                .collect();
            if let Some((host, cell)) = by_hv.iter().next() {
                let already = if agg.hosts.contains(*host) {
                    format!("; '{host}' is a member too, so this entry is only noise")
                } else {
                    format!("; '{host}' itself is not in '{}'", agg.name)
                };
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "member_is_hypervisor_hostname",
                        Severity::Failure,
                        ctx.api.name,
                        &key,
                        format!(
                            "aggregate '{}' lists '{member}', the hypervisor hostname of compute host '{host}' in {cell}; Nova matches members by service host{already}",
                            agg.name
                        ),
                    )
                    .impact(match agg.az() {
                        Some(az) => format!("'{host}' is not in AZ '{az}' as intended; `placement sync_aggregates` fails with rc 4 on this member"),
                        None => "scheduler filters reading this aggregate skip the host; `placement sync_aggregates` fails with rc 4 on this member".to_string(),
                    })
                    .values(member, host),
                );
                continue;
            }
            // os-aggregates accepted the member because both lookups it makes run in MySQL under a
            // case-insensitive collation (HostMapping.get_by_host, then Service.get_by_compute_host in
            // nova/compute/api.py @20.0.0 _find_service_in_cell); the scheduler's host -> aggregates map is a
            // Python dict keyed by the member string (nova/scheduler/host_manager.py @20.0.0 _init_aggregates),
            // so the service host never finds this aggregate.
            let folded: BTreeSet<(&str, &str)> = hosts
                .iter()
                .flat_map(|(cell, h)| {
                    h.services
                        .iter()
                        .map(String::as_str)
                        .chain(h.nodes.iter().map(|n| n.host.as_str()))
                        .filter(|x| x.eq_ignore_ascii_case(member))
                        .map(move |x| (x, *cell))
                })
                .collect();
            if let Some((host, cell)) = folded.iter().next() {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "member_case_differs",
                        Severity::Failure,
                        ctx.api.name,
                        &key,
                        format!(
                            "aggregate '{}' lists '{member}', but the compute host in {cell} is '{host}': the database matched them ignoring case when the member was added, the scheduler does not",
                            agg.name
                        ),
                    )
                    .impact(match agg.az() {
                        Some(az) => format!("'{host}' is not in AZ '{az}' for the scheduler (and shows in the default AZ); remove '{member}' and add '{host}'"),
                        None => format!("filters reading this aggregate's metadata skip '{host}'; remove '{member}' and add '{host}'"),
                    })
                    .values(member, host),
                );
                continue;
            }
            let deleted_in: Vec<&str> = hosts
                .iter()
                .filter(|(_, h)| h.deleted_services.contains(member))
                .map(|(c, _)| *c)
                .collect();
            if !deleted_in.is_empty() {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "member_service_deleted",
                        Severity::Warning,
                        ctx.api.name,
                        &key,
                        format!(
                            "aggregate '{}' still lists '{member}', whose nova-compute service in {} is deleted",
                            agg.name,
                            join_names(&deleted_in)
                        ),
                    )
                    .impact("left behind by a service delete (before bug #1470341 was fixed); remove the host from the aggregate"),
                );
                continue;
            }
            if mappings.contains_key(member) || !unknown.is_empty() {
                continue;
            }
            run.findings.push(
                Finding::new(
                    CHECK,
                    "member_unknown",
                    Severity::Failure,
                    ctx.api.name,
                    &key,
                    format!(
                        "aggregate '{}' lists '{member}', which has no host mapping and no nova-compute service in any cell",
                        agg.name
                    ),
                )
                .impact("`nova-manage placement sync_aggregates` stops with rc 4 (host mappings not found); a typo or a renamed host"),
            );
        }
    }

    for (host, zones) in v2::host_zones(&aggs) {
        let azs: BTreeSet<&str> = zones.iter().map(|(_, az)| *az).collect();
        if azs.len() < 2 {
            continue;
        }
        let list: Vec<String> = zones
            .iter()
            .map(|(agg, az)| format!("{agg} (AZ '{az}')"))
            .collect();
        run.findings.push(
            Finding::new(
                CHECK,
                "host_in_multiple_azs",
                Severity::Failure,
                ctx.api.name,
                &[("host", host)],
                format!("host '{host}' is in aggregates {}", join_names(&list)),
            )
            .impact("a host belongs to one AZ: Nova refuses this for new members, and instances on it report whichever AZ it finds first")
            .values(None::<()>, azs),
        );
    }
    run
}
