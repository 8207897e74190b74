//! `cellaudit explain` for cells v2: one aggregate, host, AZ or instance across the API database and every cell.

use crate::engine_v2::AuditedV2;
use crate::explain::{
    AggregateRow, Explanation, HostRow, InstanceRow, Subject, instance_summary, related,
    set_verdict,
};
use crate::findings::Severity;
use crate::snapshot::CellData;
use crate::topology_v2::API_NAME;
use crate::v2::{self, ApiAggregate, ApiMappings, CellHosts};
use std::collections::{BTreeMap, BTreeSet};

struct Views {
    aggregates: Vec<ApiAggregate>,
    mappings: Option<ApiMappings>,
    cell_by_uuid: BTreeMap<String, String>,
    /// (cell name, its compute hosts when read)
    hosts: Vec<(String, Option<CellHosts>)>,
}

fn views(a: &AuditedV2) -> Views {
    let api = a.api.as_ref();
    Views {
        aggregates: api
            .and_then(|d| v2::api_aggregates(d).ok())
            .unwrap_or_default(),
        mappings: api.and_then(|d| v2::api_mappings(d).ok()),
        cell_by_uuid: a
            .cells
            .iter()
            .map(|(n, u, _, _)| (u.clone(), n.clone()))
            .collect(),
        hosts: a
            .cells
            .iter()
            .map(|(n, _, _, d)| (n.clone(), d.as_ref().and_then(|d| v2::cell_hosts(d).ok())))
            .collect(),
    }
}

fn agg_row(agg: Option<&ApiAggregate>, name: &str) -> AggregateRow {
    AggregateRow {
        cell: API_NAME.to_string(),
        state: if agg.is_some() { "live" } else { "absent" },
        name: Some(agg.map_or(name, |a| a.name.as_str()).to_string()),
        uuid: agg.and_then(|a| a.uuid.clone()),
        availability_zone: agg.and_then(|a| a.az()).map(str::to_string),
        metadata: agg.map(|a| a.metadata.clone()).unwrap_or_default(),
        hosts: agg
            .map(|a| a.hosts.iter().cloned().collect())
            .unwrap_or_default(),
        note: None,
    }
}

fn host_row(v: &Views, host: &str) -> HostRow {
    let lives_in: Vec<String> = v
        .hosts
        .iter()
        .filter(|(_, h)| h.as_ref().is_some_and(|h| h.has_host(host)))
        .map(|(n, _)| n.clone())
        .collect();
    let mut zones = BTreeSet::new();
    let mut names = Vec::new();
    for a in v.aggregates.iter().filter(|a| a.hosts.contains(host)) {
        names.push(a.name.clone());
        if let Some(z) = a.az() {
            zones.insert(z.to_string());
        }
    }
    let mapped_to = v
        .mappings
        .as_ref()
        .and_then(|m| m.hosts.get(host))
        .map(|uuid| {
            v.cell_by_uuid
                .get(uuid)
                .cloned()
                .unwrap_or_else(|| uuid.clone())
        });
    HostRow {
        host: host.to_string(),
        lives_in,
        parent_az: zones.into_iter().collect(),
        // Every cell's scheduler reads the API DB's aggregates: there is no second view of the AZ.
        child_az: BTreeMap::new(),
        aggregates: BTreeMap::from([(API_NAME.to_string(), names)]),
        mapped_to,
    }
}

fn instance_rows(a: &AuditedV2, v: &Views, uuid: &str) -> Vec<InstanceRow> {
    let mut rows = Vec::new();
    let mut mapping = InstanceRow {
        cell: API_NAME.to_string(),
        state: "absent",
        ..Default::default()
    };
    if let Some(m) = v.mappings.as_ref() {
        if let Some(im) = m.instances.get(uuid) {
            mapping.state = "mapped";
            let cell = im
                .cell_uuid
                .as_ref()
                .map(|u| v.cell_by_uuid.get(u).cloned().unwrap_or_else(|| u.clone()))
                .unwrap_or_else(|| "NULL".to_string());
            mapping.columns.insert("mapped_cell", cell);
            if let Some(q) = im.queued_for_delete {
                mapping.columns.insert("queued_for_delete", q.to_string());
            }
        }
        if m.build_requests.contains_key(uuid) {
            mapping.columns.insert("build_request", "yes".to_string());
        }
    } else {
        mapping.state = "unreadable";
    }
    rows.push(mapping);
    for (name, _, _, data) in &a.cells {
        rows.push(cell_instance(name, data.as_ref(), uuid));
    }
    rows
}

fn cell_instance(cell: &str, data: Option<&CellData>, uuid: &str) -> InstanceRow {
    let mut r = InstanceRow {
        cell: cell.to_string(),
        state: "absent",
        ..Default::default()
    };
    match data.map(v2::instances) {
        None => r.state = "unreadable",
        Some(Err(e)) => {
            r.state = "unreadable";
            r.note = Some(e);
        }
        Some(Ok(all)) => {
            if let Some(i) = all
                .iter()
                .filter(|i| i.uuid == uuid)
                .min_by_key(|i| i.deleted)
            {
                r.state = if i.deleted { "deleted" } else { "live" };
                let put = |r: &mut InstanceRow, k: &'static str, v: &Option<String>| {
                    if let Some(v) = v {
                        r.columns.insert(k, v.clone());
                    }
                };
                put(&mut r, "display_name", &i.display_name);
                put(&mut r, "host", &i.host);
                put(&mut r, "vm_state", &i.vm_state);
                put(&mut r, "availability_zone", &i.availability_zone);
                if i.hidden {
                    r.columns.insert("hidden", "true".into());
                }
            }
        }
    }
    r
}

fn verdict(e: &mut Explanation) {
    let mut v = Vec::new();
    for h in &e.hosts {
        let mapped = h.mapped_to.as_deref();
        let line = match (h.lives_in.as_slice(), mapped) {
            ([], None) => format!(
                "host '{}' is a compute host in no audited cell and has no host mapping",
                h.host
            ),
            ([], Some(m)) => format!(
                "host '{}' is mapped to {m} but is a compute host in no audited cell",
                h.host
            ),
            ([c], Some(m)) if c == m => format!(
                "host '{}' lives in {c}, is mapped there, and is in {}",
                h.host,
                if h.parent_az.is_empty() {
                    "the default AZ".to_string()
                } else {
                    format!("AZ '{}'", h.parent_az.join("', '"))
                }
            ),
            ([c], Some(m)) => format!(
                "host '{}' lives in {c} but its host mapping names {m}: the scheduler sends builds to the wrong cell",
                h.host
            ),
            ([c], None) => format!(
                "host '{}' lives in {c} but has no host mapping: nothing is scheduled to it (run nova-manage cell_v2 discover_hosts)",
                h.host
            ),
            (many, _) => format!(
                "host '{}' is a compute host in {} at once",
                h.host,
                many.join(" and ")
            ),
        };
        v.push(line);
    }
    set_verdict(e, v);
}

pub fn explain(a: &AuditedV2, subject: Subject, id: &str) -> Explanation {
    let v = views(a);
    let mut e = Explanation {
        topology: "cells-v2",
        subject,
        id: id.to_string(),
        cells: a.report.cells.clone(),
        aggregates: Vec::new(),
        instances: Vec::new(),
        hosts: Vec::new(),
        findings: Vec::new(),
        verdict: Vec::new(),
        fixes: Vec::new(),
    };
    let mut agg_names = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    match subject {
        Subject::Aggregate => {
            let agg = v
                .aggregates
                .iter()
                .find(|x| x.name == id || x.uuid.as_deref() == Some(id));
            e.aggregates.push(agg_row(agg, id));
            if let Some(agg) = agg {
                hosts.extend(agg.hosts.iter().cloned());
                agg_names.insert(agg.name.clone());
            } else {
                agg_names.insert(id.to_string());
            }
        }
        Subject::Host => {
            hosts.insert(id.to_string());
        }
        Subject::Az => {
            for agg in v.aggregates.iter().filter(|x| x.az() == Some(id)) {
                e.aggregates.push(agg_row(Some(agg), &agg.name));
                hosts.extend(agg.hosts.iter().cloned());
                agg_names.insert(agg.name.clone());
            }
        }
        Subject::Instance => {
            e.instances = instance_rows(a, &v, id);
            hosts.extend(
                e.instances
                    .iter()
                    .filter_map(|r| r.columns.get("host").cloned()),
            );
        }
    }
    e.hosts = hosts.iter().map(|h| host_row(&v, h)).collect();
    let uuid = (subject == Subject::Instance).then_some(id);
    e.findings = related(&a.report.findings, &agg_names, &hosts, uuid);
    if let Some(p) = &a.placement {
        crate::placement::explain::add(p, &v.aggregates, &a.report.findings, &mut e);
    }
    verdict(&mut e);
    if subject == Subject::Instance {
        instance_summary(&mut e);
        // Cells v2 has no parent copy to resync from: the fixes are nova-manage's.
        e.fixes = e
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .filter_map(|f| match f.kind {
                "instance_unmapped" => Some(format!("nova-manage cell_v2 map_instances --cell_uuid <uuid of {}>", f.cell)),
                "mapped_to_wrong_cell" | "mapped_instance_missing" => {
                    Some(format!("nova-manage cell_v2 verify_instance --uuid {id}   (shows the mapping; fix the mapping's cell_id to where the instance lives)"))
                }
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    } else if e
        .hosts
        .iter()
        .any(|h| !h.lives_in.is_empty() && h.mapped_to.is_none())
    {
        e.fixes.push("nova-manage cell_v2 discover_hosts --by-service   (maps compute hosts that have no host mapping)".to_string());
    }
    e
}
