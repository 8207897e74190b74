//! `explain az|aggregate|host` on cells v2: placement's side of the object next to nova_api's.

use super::PlacementView;
use super::data::ukey;
use crate::explain::{AggregateRow, Explanation};
use crate::findings::Finding;
use crate::v2::ApiAggregate;
use std::collections::BTreeSet;

/// Host names (or, for providers of no known compute node, provider names) whose providers carry `uuid`.
fn members(view: &PlacementView, uuid: &str) -> BTreeSet<String> {
    let Some(p) = &view.placement else {
        return BTreeSet::new();
    };
    let live = view.nova.live_by_uuid();
    let want = ukey(uuid);
    p.providers
        .iter()
        .filter(|rp| rp.aggregates.contains(&want))
        .map(
            |rp| match live.get(&ukey(&rp.uuid)).and_then(|n| n.host.clone()) {
                Some(h) => h,
                None => format!("provider {}", rp.name.as_deref().unwrap_or(&rp.uuid)),
            },
        )
        .collect()
}

/// Adds placement's rows: for each nova_api aggregate shown, the placement aggregate of its uuid;
/// for each host shown, the Nova aggregates its compute node providers carry in placement.
pub fn add(
    view: &PlacementView,
    aggregates: &[ApiAggregate],
    findings: &[Finding],
    e: &mut Explanation,
) {
    // Placement's findings about a shown host's memberships, which name an aggregate as well.
    for f in findings {
        let about_host = f
            .key
            .get("host")
            .is_some_and(|h| e.hosts.iter().any(|r| &r.host == h));
        if about_host && super::is_check(f.check) && !e.findings.contains(f) {
            e.findings.push(f.clone());
        }
    }
    let Some(placement) = &view.placement else {
        return;
    };
    let shown: Vec<AggregateRow> = e
        .aggregates
        .iter()
        .filter(|r| r.cell == crate::topology_v2::API_NAME && r.state == "live")
        .cloned()
        .collect();
    for r in shown {
        let Some(uuid) = r.uuid.as_deref() else {
            continue;
        };
        let have = members(view, uuid);
        let missing: Vec<&String> = r
            .hosts
            .iter()
            .filter(|h| !view.nova.cells_of_host(h).is_empty() && !have.contains(*h))
            .collect();
        let extra: Vec<&String> = have.iter().filter(|h| !r.hosts.contains(h)).collect();
        let mut notes = Vec::new();
        if !missing.is_empty() {
            notes.push(format!(
                "missing: {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !extra.is_empty() {
            notes.push(format!(
                "not in nova_api: {}",
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        e.aggregates.push(AggregateRow {
            cell: super::NAME.to_string(),
            state: if have.is_empty() { "absent" } else { "live" },
            name: r.name.clone(),
            uuid: Some(uuid.to_string()),
            availability_zone: None,
            metadata: Default::default(),
            hosts: have.into_iter().collect(),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        });
    }
    for h in e.hosts.iter_mut() {
        let mut names = Vec::new();
        for n in view
            .nova
            .nodes
            .iter()
            .filter(|n| !n.deleted && n.host.as_deref() == Some(h.host.as_str()))
        {
            match placement.by_uuid(&n.uuid) {
                None => names.push(format!("(node {}: no provider)", n.uuid)),
                Some(p) => {
                    for g in &p.aggregates {
                        let name = aggregates
                            .iter()
                            .find(|a| a.uuid.as_deref().map(ukey).as_deref() == Some(g.as_str()))
                            .map(|a| a.name.clone())
                            .unwrap_or_else(|| format!("{g} (not a Nova aggregate)"));
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
        }
        h.aggregates.insert(super::NAME.to_string(), names);
    }
    if e.findings.iter().any(|f| {
        f.check == super::AGGREGATES
            && matches!(f.kind, "az_aggregate_missing" | "aggregate_missing")
    }) {
        e.fixes.push("nova-manage placement sync_aggregates --verbose   (adds the missing placement memberships; first fix what the placement_aggregates/sync_aggregates_blocked finding of `cellaudit audit` lists)".to_string());
    }
}
