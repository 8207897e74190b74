//! The `placement_aggregates` and `resource_providers` checks: nova_api aggregates and the cells' compute nodes
//! against placement's aggregates and providers. Both read snapshots already in hand; nothing is streamed.

use super::data::{Node, Nova, Placement, ukey};
use crate::checks::ids::{Check, Kind};
use crate::checks::{CheckRun, join_names};
use crate::findings::{Finding, Severity};
use crate::v2::{ApiAggregate, CellHosts};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const AGGREGATES: Check = Check::PlacementAggregates;
pub const PROVIDERS: Check = Check::ResourceProviders;

/// What the two checks look at.
pub struct Inputs<'a> {
    /// The name findings about placement's side are reported under.
    pub placement_name: &'a str,
    pub placement: &'a Placement,
    pub nova: &'a Nova,
    pub aggregates: &'a [ApiAggregate],
    /// host → cell name, from nova_api's host_mappings (`None` when unreadable).
    pub host_mappings: Option<&'a BTreeMap<String, String>>,
    /// Each read cell's nova-compute services.
    pub services: &'a BTreeMap<String, CellHosts>,
}

/// The request filters that read a non-AZ aggregate's placement membership, by its metadata
/// (nova/scheduler/request_filter.py: require_tenant_aggregate reads `filter_tenant_id*`,
/// isolate_aggregates reads `trait:*=required`).
fn filters_reading(agg: &ApiAggregate) -> String {
    let mut f = Vec::new();
    if agg
        .metadata
        .keys()
        .any(|k| k.starts_with("filter_tenant_id"))
    {
        f.push("require_tenant_aggregate ([scheduler] limit_tenants_to_placement_aggregate), which then offers these hosts to no tenant");
    }
    if agg
        .metadata
        .iter()
        .any(|(k, v)| k.starts_with("trait:") && v == "required")
    {
        f.push("isolate_aggregates ([scheduler] enable_isolated_aggregate_filtering), which then fails to keep other instances off these hosts");
    }
    if f.is_empty() {
        "no request filter reads it with its current metadata; require_tenant_aggregate will once it has filter_tenant_id, isolate_aggregates once it has trait:*=required".to_string()
    } else {
        format!("read by {}", f.join(", and by "))
    }
}

/// Whether any request filter reads this aggregate's placement membership (see `filters_reading`).
fn filters_read(agg: &ApiAggregate) -> bool {
    agg.metadata.iter().any(|(k, v)| {
        k.starts_with("filter_tenant_id") || (k.starts_with("trait:") && v == "required")
    })
}

/// Why `nova-manage placement sync_aggregates` would not simply heal the missing memberships
/// (nova/cmd/manage.py PlacementCommands.sync_aggregates and its return codes).
#[derive(Default)]
struct SyncBlockers {
    /// Exit 1, at once: a member host with several compute nodes (TooManyComputesForHost).
    multi_node: BTreeMap<String, usize>,
    /// Exit 4: members with no host mapping.
    unmapped: BTreeSet<String>,
    /// Exit 5: mapped members with a service but no compute node.
    no_compute_node: BTreeSet<String>,
    /// Exit 6: compute nodes with no resource provider.
    no_provider: BTreeSet<String>,
}

impl SyncBlockers {
    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.multi_node.is_empty() {
            let hosts: Vec<String> = self
                .multi_node
                .iter()
                .map(|(h, n)| format!("{h} ({n} compute nodes)"))
                .collect();
            out.push(format!(
                "it stops with exit code 1 at the first member host with more than one compute node (ironic): {}; take such hosts out of the aggregates (or run it after fixing them by hand)",
                join_names(&hosts)
            ));
        }
        if !self.unmapped.is_empty() {
            out.push(format!(
                "it exits 4 for members with no host mapping: {} (run nova-manage cell_v2 discover_hosts, or remove them from their aggregates)",
                join_names(&self.unmapped)
            ));
        }
        if !self.no_compute_node.is_empty() {
            out.push(format!(
                "it exits 5 for members with a nova-compute service but no compute node: {} (restart nova-compute there)",
                join_names(&self.no_compute_node)
            ));
        }
        if !self.no_provider.is_empty() {
            out.push(format!(
                "it exits 6 for members whose compute node has no resource provider: {} (see resource_providers)",
                join_names(&self.no_provider)
            ));
        }
        out
    }
}

/// `api_release`: the newest release the API DB's schema allows (`None`: unknown, judged as today's Nova).
pub fn placement_aggregates(
    i: &Inputs<'_>,
    api_release: Option<crate::release::Release>,
) -> CheckRun {
    let mut run = CheckRun::default();
    // From 2023.2 (28.0.0) the AvailabilityZoneFilter is gone and map_az_to_placement_aggregate is the only
    // AZ filter; from Rocky to 2023.1 it runs only with [scheduler] query_placement_for_availability_zone
    // (nova/conf/scheduler.py @18.0.0), the AvailabilityZoneFilter still guarding AZs otherwise.
    let az_only_via_placement = api_release.is_none_or(|r| r >= crate::release::Release::BOBCAT);
    let mut worst = Severity::Info;
    let cell_of_host = |host: &str| i.nova.cells_of_host(host);
    let mut blockers = SyncBlockers::default();
    let mut any_missing = false;
    for agg in i.aggregates {
        let Some(uuid) = agg.uuid.as_deref() else {
            continue;
        };
        let want = ukey(uuid);
        // host → why placement cannot choose it for this aggregate.
        let mut missing: BTreeMap<&str, String> = BTreeMap::new();
        for host in &agg.hosts {
            let cells = cell_of_host(host);
            if cells.is_empty() {
                // Not a compute host of any cell read: api_aggregates reports the member itself.
                // HostMapping.get_by_host compares under the API DB's case-insensitive collation.
                let mapped =
                    |m: &BTreeMap<String, String>| m.keys().any(|k| k.eq_ignore_ascii_case(host));
                match i.host_mappings {
                    Some(m) if !mapped(m) => {
                        blockers.unmapped.insert(host.clone());
                    }
                    Some(_) if i.services.values().any(|s| s.services.contains(host)) => {
                        blockers.no_compute_node.insert(host.clone());
                    }
                    _ => {}
                }
                continue;
            }
            for cell in cells {
                let nodes = i.nova.host_nodes(cell, host);
                if nodes.len() > 1 {
                    blockers.multi_node.insert(host.clone(), nodes.len());
                }
                for n in nodes {
                    match i.placement.by_uuid(&n.uuid) {
                        None => {
                            blockers.no_provider.insert(host.clone());
                            missing.insert(
                                host,
                                format!("its compute node {} has no resource provider", n.uuid),
                            );
                        }
                        Some(p) if !p.aggregates.contains(&want) => {
                            missing.insert(host, format!("provider {} lacks it", p.label()));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        any_missing = true;
        let listed: Vec<String> = missing
            .iter()
            .map(|(h, why)| format!("{h} ({why})"))
            .collect();
        let hosts: Vec<&str> = missing.keys().copied().collect();
        let key = [("aggregate", agg.name.as_str())];
        let finding = match agg.az() {
            Some(az) => Finding::new(
                AGGREGATES,
                Kind::AzAggregateMissing,
                if az_only_via_placement {
                    Severity::Failure
                } else {
                    Severity::Warning
                },
                i.placement_name,
                &key,
                format!(
                    "AZ '{az}' (aggregate '{}', uuid {uuid}): placement aggregate {uuid} is missing {}; hosts that cannot be chosen for '{az}': {}",
                    agg.name,
                    join_names(&listed),
                    join_names(&hosts)
                ),
            )
            // nova/scheduler/request_filter.py map_az_to_placement_aggregate: since 28.0.0 the only AZ filter.
            .impact(if az_only_via_placement {
                format!(
                    "boots, moves and unshelves that ask for '{az}' are never placed on {}: the scheduler asks placement only for providers in aggregate {uuid}; with every host missing, NoValidHost",
                    join_names(&hosts)
                )
            } else {
                format!(
                    "with [scheduler] query_placement_for_availability_zone = True, boots that ask for '{az}' are never placed on {}; the option is off by default on this release, and from 2023.2 (28.0.0) placement is the only AZ filter, so this must be healed before that upgrade",
                    join_names(&hosts)
                )
            }),
            // Only a warning when a request filter reads this aggregate's membership; otherwise nothing
            // notices yet, and it is worth knowing before metadata that a filter reads is added.
            None => Finding::new(
                AGGREGATES,
                Kind::AggregateMissing,
                if filters_read(agg) {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                i.placement_name,
                &key,
                format!(
                    "aggregate '{}' (uuid {uuid}): placement aggregate {uuid} is missing {}",
                    agg.name,
                    join_names(&listed)
                ),
            )
            .impact(filters_reading(agg)),
        };
        worst = worst.max(finding.severity);
        run.findings.push(
            finding.values(
                agg.hosts.iter().collect::<Vec<_>>(),
                agg.hosts
                    .iter()
                    .filter(|h| !missing.contains_key(h.as_str()))
                    .collect::<Vec<_>>(),
            ),
        );
    }

    // Memberships placement has and nova_api does not, on Nova's own aggregates only: an aggregate
    // uuid Nova does not know is someone else's (sharing providers, Neutron segments, ironic).
    let by_uuid: HashMap<String, &ApiAggregate> = i
        .aggregates
        .iter()
        .filter_map(|a| a.uuid.as_deref().map(|u| (ukey(u), a)))
        .collect();
    let live = i.nova.live_by_uuid();
    for p in &i.placement.providers {
        let Some(node) = live.get(&ukey(&p.uuid)) else {
            continue;
        };
        let Some(host) = node.host.as_deref() else {
            continue;
        };
        for g in &p.aggregates {
            let Some(agg) = by_uuid.get(g) else { continue };
            if agg.hosts.contains(host) {
                continue;
            }
            let effect = match agg.az() {
                Some(az) => format!(
                    "boots that ask for AZ '{az}' can land on {host}, which Nova shows in another AZ"
                ),
                None => format!(
                    "{host} is treated as a member by the request filters: {}",
                    filters_reading(agg)
                ),
            };
            run.findings.push(
                Finding::new(
                    AGGREGATES,
                    Kind::ExtraMembership,
                    Severity::Warning,
                    i.placement_name,
                    &[("aggregate", agg.name.as_str()), ("host", host)],
                    format!(
                        "placement has provider {} of host {host} ({}) in aggregate {} ('{}'), but nova_api's '{}' does not list {host}",
                        p.label(),
                        node.cell,
                        agg.uuid.as_deref().unwrap_or_default(),
                        agg.name,
                        agg.name
                    ),
                )
                .impact(format!(
                    "{effect}; sync_aggregates never removes memberships: remove it with `openstack resource provider aggregate set` (or add {host} to the aggregate in Nova)"
                )),
            );
        }
    }

    if any_missing {
        let lines = blockers.lines();
        if lines.is_empty() {
            run.findings.push(Finding::new(
                AGGREGATES,
                Kind::SyncAggregatesReady,
                Severity::Info,
                i.placement_name,
                &[("command", "nova-manage placement sync_aggregates")],
                "nova-manage placement sync_aggregates adds every missing membership above; nothing found would stop it".into(),
            ));
        } else {
            run.findings.push(
                Finding::new(
                    AGGREGATES,
                    Kind::SyncAggregatesBlocked,
                    // As pressing as the worst missing membership it would heal.
                    worst.min(Severity::Warning),
                    i.placement_name,
                    &[("command", "nova-manage placement sync_aggregates")],
                    format!(
                        "before nova-manage placement sync_aggregates can add the missing memberships: {}",
                        lines.join("; ")
                    ),
                )
                .impact("run it after fixing these, and check its exit code: 0 means every member was mirrored"),
            );
        }
    }
    run
}

pub fn resource_providers(i: &Inputs<'_>) -> CheckRun {
    let mut run = CheckRun::default();
    let live: Vec<&Node> = i.nova.nodes.iter().filter(|n| !n.deleted).collect();
    let unread = &i.nova.unread;

    // Several live compute nodes with one hypervisor_hostname (an ironic node rebalanced to another
    // nova-compute, a host reinstalled): placement names providers uniquely, so at most one has one.
    let mut by_hv: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
    for n in &live {
        if let Some(hv) = n.hypervisor_hostname.as_deref() {
            by_hv.entry(hv).or_default().push(n);
        }
    }
    let mut in_duplicate: BTreeSet<&str> = BTreeSet::new();
    for (hv, nodes) in by_hv.iter().filter(|(_, v)| v.len() > 1) {
        let owner = i.placement.by_name(hv);
        let labels: Vec<String> = nodes.iter().map(|n| n.label()).collect();
        let provider = match owner {
            Some(p) => {
                let whose = nodes
                    .iter()
                    .find(|n| ukey(&n.uuid) == ukey(&p.uuid))
                    .map(|n| format!("the one of compute node {}", n.uuid))
                    .unwrap_or_else(|| "of none of them".into());
                format!("placement's provider '{hv}' is {} ({whose})", p.uuid)
            }
            None => format!("placement has no provider named '{hv}'"),
        };
        for n in nodes {
            in_duplicate.insert(n.uuid.as_str());
        }
        run.findings.push(
            Finding::new(
                PROVIDERS,
                Kind::DuplicateComputeNodes,
                Severity::Failure,
                i.placement_name,
                &[("node", hv)],
                format!(
                    "{} live compute nodes share hypervisor_hostname '{hv}': {}; {provider}",
                    nodes.len(),
                    join_names(&labels)
                ),
            )
            .impact("the compute node without the provider is never scheduled to and its nova-compute logs a provider name conflict on every periodic update; delete the stale compute node (and its service, if it is gone)"),
        );
    }

    for n in &live {
        if in_duplicate.contains(n.uuid.as_str()) || i.placement.by_uuid(&n.uuid).is_some() {
            continue;
        }
        let hv = n.hypervisor_hostname.as_deref().unwrap_or("");
        let clash = i
            .placement
            .by_name(hv)
            .map(|p| {
                format!(
                    "; placement's provider named '{hv}' is {}, so nova-compute cannot create one under that name",
                    p.uuid
                )
            })
            .unwrap_or_default();
        run.findings.push(
            Finding::new(
                PROVIDERS,
                Kind::ComputeNodeWithoutProvider,
                Severity::Failure,
                &n.cell,
                &[("host", n.host.as_deref().unwrap_or("")), ("node", hv)],
                format!(
                    "compute node {} has no resource provider in placement{clash}",
                    n.label()
                ),
            )
            .impact("placement never offers it, so nothing is scheduled to it; nova-compute creates the provider on its next resource update unless it cannot reach placement (see its log)"),
        );
    }

    let by_uuid = i.nova.live_by_uuid();
    let deleted: HashMap<String, &Node> = i
        .nova
        .nodes
        .iter()
        .filter(|n| n.deleted)
        .map(|n| (ukey(&n.uuid), n))
        .collect();
    let mut undecided = 0usize;
    for p in i
        .placement
        .providers
        .iter()
        .filter(|p| p.looks_like_compute_node())
    {
        match by_uuid.get(&ukey(&p.uuid)) {
            Some(n) => {
                let hv = n.hypervisor_hostname.as_deref().unwrap_or("");
                if p.name.as_deref() != Some(hv) {
                    run.findings.push(
                        Finding::new(
                            PROVIDERS,
                            Kind::ProviderNameMismatch,
                            Severity::Warning,
                            i.placement_name,
                            &[("provider", p.uuid.as_str())],
                            format!(
                                "provider {} belongs to compute node {}, whose hypervisor_hostname is '{hv}'",
                                p.label(),
                                n.label()
                            ),
                        )
                        .impact(format!(
                            "placement and Nova show the node under different names, and a new compute node named '{}' could not get a provider",
                            p.name.as_deref().unwrap_or_default()
                        ))
                        .values(hv, p.name.as_deref()),
                    );
                }
            }
            None => {
                let why = match deleted.get(&ukey(&p.uuid)) {
                    Some(d) => format!("its compute node {} was deleted", d.label()),
                    None if unread.is_empty() => {
                        "no cell has a compute node with that uuid".to_string()
                    }
                    // Its node may live in a cell not read: counted, not reported.
                    None => {
                        undecided += 1;
                        continue;
                    }
                };
                run.findings.push(
                    Finding::new(
                        PROVIDERS,
                        Kind::ProviderWithoutComputeNode,
                        Severity::Warning,
                        i.placement_name,
                        &[("provider", p.uuid.as_str())],
                        format!("compute node provider {}: {why}", p.label()),
                    )
                    .impact("placement still counts its inventory and usage, and its allocations hold capacity and quota; once nothing uses it, `openstack resource provider delete` it"),
                );
            }
        }
    }
    if undecided > 0 {
        run.findings.push(
            Finding::new(
                PROVIDERS,
                Kind::ProvidersUndecided,
                Severity::Info,
                i.placement_name,
                &[("cells", join_names(unread).as_str())],
                format!(
                    "{undecided} compute node providers match no compute node in the cells read; {} not read, so none of them is reported",
                    join_names(unread)
                ),
            )
            .impact("audit every cell to tell providers left behind from those of nodes there"),
        );
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(meta: &[(&str, &str)]) -> ApiAggregate {
        ApiAggregate {
            name: "a".into(),
            uuid: Some("u".into()),
            hosts: BTreeSet::new(),
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_filters_named_follow_the_metadata() {
        let none = filters_reading(&agg(&[("gpu", "true")]));
        assert!(none.starts_with("no request filter reads it"), "{none}");
        let tenant = filters_reading(&agg(&[("filter_tenant_id2", "p1")]));
        assert!(
            tenant.starts_with("read by require_tenant_aggregate"),
            "{tenant}"
        );
        assert!(!tenant.contains("isolate_aggregates"), "{tenant}");
        let both = filters_reading(&agg(&[
            ("filter_tenant_id", "p1"),
            ("trait:CUSTOM_GPU", "required"),
        ]));
        assert!(both.contains("require_tenant_aggregate") && both.contains("isolate_aggregates"));
        // Only `required` isolates; `forbidden` is not an aggregate trait isolate_aggregates reads.
        let forbidden = filters_reading(&agg(&[("trait:CUSTOM_GPU", "forbidden")]));
        assert!(forbidden.starts_with("no request filter"), "{forbidden}");
    }

    #[test]
    fn sync_blockers_list_exit_codes_in_order() {
        let mut b = SyncBlockers::default();
        assert!(b.lines().is_empty());
        b.no_provider.insert("h6".into());
        b.unmapped.insert("h4".into());
        b.multi_node.insert("h1".into(), 3);
        b.no_compute_node.insert("h5".into());
        let l = b.lines();
        assert_eq!(l.len(), 4);
        assert!(l[0].contains("exit code 1") && l[0].contains("h1 (3 compute nodes)"));
        assert!(l[1].contains("exits 4") && l[1].contains("h4"));
        assert!(l[2].contains("exits 5") && l[2].contains("h5"));
        assert!(l[3].contains("exits 6") && l[3].contains("h6"));
    }
}
