//! `cellaudit explain`: one object (aggregate, host, availability zone) side by side across the parent and every child.

use crate::engine::Audited;
use crate::findings::{CellState, CellStatus, Finding, Severity};
use crate::queries::EXPLAIN_INSTANCE;
use crate::snapshot::CellData;
use crate::v1::{self, Aggregate, Aggregates, HostRef};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Aggregate,
    Host,
    Az,
    Instance,
}

/// One instance as one cell has it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InstanceRow {
    pub cell: String,
    /// `live`, `deleted`, `absent`, or `unreadable` (with the reason in `note`).
    pub state: &'static str,
    /// Column values as read (NULL omitted), for the columns the parent mirrors.
    pub columns: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Turns the point lookups into one row per cell; a live row wins over soft-deleted ones.
pub fn instance_rows(lookups: &[crate::lookup::CellRows]) -> Vec<InstanceRow> {
    lookups
        .iter()
        .map(|(cell, rows)| {
            let mut r = InstanceRow {
                cell: cell.clone(),
                state: "absent",
                ..Default::default()
            };
            match rows {
                Err(e) => {
                    r.state = "unreadable";
                    r.note = Some(e.clone());
                }
                Ok(rows) => {
                    if let Some(row) = rows.first() {
                        r.state = if row[12].truthy() { "deleted" } else { "live" };
                        for (name, v) in EXPLAIN_INSTANCE.columns.iter().zip(row) {
                            if let Some(t) = v.as_text() {
                                r.columns.insert(name, t);
                            }
                        }
                    }
                }
            }
            r
        })
        .collect()
}

/// One aggregate as one cell has it.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateRow {
    pub cell: String,
    /// `live`, `deleted`, `absent`, or `unreadable` (with the reason in `note`).
    pub state: &'static str,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub availability_zone: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One compute host: where it lives and the AZ each database gives it.
#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub host: String,
    /// Children with a live nova-compute on it.
    pub lives_in: Vec<String>,
    /// The AZ(s) the parent's aggregates give it (empty: the default AZ).
    pub parent_az: Vec<String>,
    /// The AZ(s) its own child's aggregates give it, per child it lives in.
    pub child_az: BTreeMap<String, Vec<String>>,
    /// Aggregates containing it, per cell.
    pub aggregates: BTreeMap<String, Vec<String>>,
    /// Cells v2: the cell its `host_mappings` row names (None: unmapped, or cells v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// `cells-v1` (parent and children) or `cells-v2` (API DB and cells).
    pub topology: &'static str,
    pub subject: Subject,
    pub id: String,
    pub cells: Vec<CellStatus>,
    /// For an aggregate: its row in each cell; for an AZ: each aggregate carrying it, per cell.
    pub aggregates: Vec<AggregateRow>,
    /// For an instance: its row in each cell.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<InstanceRow>,
    pub hosts: Vec<HostRow>,
    /// The audit's findings about this object, its hosts and its aggregates.
    pub findings: Vec<Finding>,
    /// Plain-language conclusions, worst first.
    pub verdict: Vec<String>,
    /// Commands that would fix what can be fixed by copying from the parent.
    pub fixes: Vec<String>,
}

impl Explanation {
    /// Whether no audited cell has the object at all (every row absent): a typo or an object long gone,
    /// which is not the same as "no problem found" (`explain` exits [`crate::exit_codes::EXPLAIN_NOT_FOUND`]).
    pub fn found_nowhere(&self) -> bool {
        self.aggregates.iter().all(|a| a.state == "absent")
            && self.instances.iter().all(|r| r.state == "absent")
            && self.hosts.iter().all(|h| {
                h.lives_in.is_empty()
                    && h.aggregates.values().all(|v| v.is_empty())
                    && h.mapped_to.is_none()
            })
            && self.cells.iter().all(|c| c.status == CellState::Ok)
    }
}

struct Views<'a> {
    parent_name: String,
    /// The AZ of hosts in no AZ aggregate; an aggregate naming it is no AZ.
    default_az: String,
    /// The top derives AZs from `path!cell@host` members only (Pike to Stein, see `az_answer`).
    strict_top: bool,
    parent: Option<Aggregates>,
    children: Vec<(String, Result<Aggregates, String>, Option<&'a CellData>)>,
    residency: BTreeMap<String, Vec<String>>,
}

fn views(a: &Audited) -> Views<'_> {
    let parent_name = a
        .report
        .cells
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let mut residency: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let children = a
        .children
        .iter()
        .map(|(name, data)| {
            if let Some(hosts) = data.as_ref().and_then(|d| v1::compute_hosts(d).ok()) {
                for h in hosts {
                    residency.entry(h).or_default().push(name.clone());
                }
            }
            let aggs = match data {
                Some(d) => v1::aggregates(d),
                None => Err("cell could not be read".to_string()),
            };
            (name.clone(), aggs, data.as_ref())
        })
        .collect();
    let strict_top = a
        .sources
        .iter()
        .find(|s| s.cell == parent_name)
        .and_then(|s| s.release)
        .is_some_and(|r| {
            (crate::release::Release::PIKE..=crate::release::Release::STEIN).contains(&r)
        });
    Views {
        default_az: a.default_az.clone(),
        strict_top,
        parent_name,
        parent: a.parent.as_ref().and_then(|d| v1::aggregates(d).ok()),
        children,
        residency,
    }
}

fn row(
    cell: &str,
    aggs: Result<&Aggregates, &String>,
    pick: &dyn Fn(&Aggregates) -> Option<Aggregate>,
    name: &str,
) -> AggregateRow {
    let mut r = AggregateRow {
        cell: cell.to_string(),
        state: "absent",
        name: None,
        uuid: None,
        availability_zone: None,
        metadata: BTreeMap::new(),
        hosts: Vec::new(),
        note: None,
    };
    match aggs {
        Err(e) => {
            r.state = "unreadable";
            r.note = Some(e.clone());
        }
        Ok(aggs) => {
            if let Some(a) = pick(aggs) {
                r.state = "live";
                r.availability_zone = a.az().map(str::to_string);
                r.name = Some(a.name);
                r.uuid = a.uuid;
                r.metadata = a.metadata;
                r.hosts = a.hosts.into_iter().collect();
            } else if aggs.deleted.contains(name) {
                r.state = "deleted";
                r.name = Some(name.to_string());
            }
        }
    }
    r
}

/// The AZs `aggs` give `host` and the aggregates naming it; with `only_cell`, only members named
/// `path!cell@host` for that cell give an AZ (the top, Pike to Stein).
fn zones_of(
    aggs: Option<&Aggregates>,
    host: &str,
    default_az: &str,
    only_cell: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut zones = BTreeSet::new();
    let mut names = Vec::new();
    if let Some(aggs) = aggs {
        for a in aggs.iter() {
            if a.member_hosts().contains(host) {
                names.push(a.name.clone());
                let counts = only_cell.is_none_or(|cell| {
                    a.hosts
                        .iter()
                        .map(|h| HostRef::parse(h))
                        .any(|r| r.host == host && r.cell.as_deref() == Some(cell))
                });
                if let Some(z) = a.zone(default_az).filter(|_| counts) {
                    zones.insert(z.to_string());
                }
            }
        }
    }
    (zones.into_iter().collect(), names)
}

fn host_row(v: &Views<'_>, host: &str) -> HostRow {
    let lives_in = v.residency.get(host).cloned().unwrap_or_default();
    let only_cell = match lives_in.as_slice() {
        [one] if v.strict_top => Some(one.as_str()),
        _ => None,
    };
    let (parent_az, parent_aggs) = zones_of(v.parent.as_ref(), host, &v.default_az, only_cell);
    let mut aggregates = BTreeMap::new();
    aggregates.insert(v.parent_name.clone(), parent_aggs);
    let mut child_az = BTreeMap::new();
    for (name, aggs, _) in &v.children {
        let (zones, names) = zones_of(aggs.as_ref().ok(), host, &v.default_az, None);
        if !names.is_empty() {
            aggregates.insert(name.clone(), names);
        }
        if lives_in.contains(name) {
            child_az.insert(name.clone(), zones);
        }
    }
    HostRow {
        host: host.to_string(),
        lives_in,
        parent_az,
        child_az,
        aggregates,
        mapped_to: None,
    }
}

fn shown(zones: &[String]) -> String {
    if zones.is_empty() {
        "the default AZ".to_string()
    } else {
        format!(
            "AZ {}",
            zones
                .iter()
                .map(|z| format!("'{z}'"))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    }
}

/// Sets the verdict: the conclusions `lines` drew from the rows, then the audit's failures and
/// warnings about the object, worst first; led by a clean bill when there are neither.
pub(crate) fn set_verdict(e: &mut Explanation, mut lines: Vec<String>) {
    let mut sorted: Vec<&Finding> = e.findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted.into_iter().filter(|f| f.severity > Severity::Info) {
        lines.push(format!(
            "{} in {}: {}",
            f.severity.as_str().to_uppercase(),
            f.cell,
            f.message
        ));
    }
    if e.found_nowhere() {
        let subject = match e.subject {
            Subject::Aggregate => "aggregate",
            Subject::Host => "host",
            Subject::Az => "availability zone",
            Subject::Instance => "instance",
        };
        let nowhere = format!("{subject} {} exists in no audited cell", e.id);
        if !lines.contains(&nowhere) {
            lines.insert(0, nowhere);
        }
    } else if e.findings.iter().all(|f| f.severity == Severity::Info)
        && e.cells.iter().all(|c| c.status == CellState::Ok)
    {
        lines.insert(0, "no problem found for this object".to_string());
    }
    e.verdict = lines;
}

/// Conclusions from the rows themselves plus the audit's failures and warnings about them.
pub(crate) fn verdict(e: &mut Explanation, parent: &str) {
    let mut v = Vec::new();
    for h in &e.hosts {
        match h.lives_in.len() {
            0 => v.push(format!(
                "host '{}' is not a live nova-compute in any audited child",
                h.host
            )),
            1 => {
                let cell = &h.lives_in[0];
                let theirs = h.child_az.get(cell).cloned().unwrap_or_default();
                if theirs == h.parent_az {
                    v.push(format!("host '{}' lives in {cell} and is in {} there and at the parent: consistent", h.host, shown(&theirs)));
                } else {
                    v.push(format!(
                        "host '{}' lives in {cell}: the API ({parent}) puts it in {}, but {cell}'s scheduler puts it in {}; boots into {} will not land on it",
                        h.host,
                        shown(&h.parent_az),
                        shown(&theirs),
                        shown(&h.parent_az)
                    ));
                }
            }
            _ => v.push(format!(
                "host '{}' runs nova-compute in {} at once",
                h.host,
                h.lives_in.join(" and ")
            )),
        }
    }
    set_verdict(e, v);

    // Missing rows are copied from the parent; drifted values need --fix-drift, per cell.
    let mut by_cell: BTreeMap<&str, (BTreeSet<&str>, bool)> = BTreeMap::new();
    for f in &e.findings {
        let entry = || (BTreeSet::new(), false);
        match (f.check, f.kind) {
            ("aggregates" | "aggregate_metadata" | "aggregate_hosts", "missing_in_child") => {
                by_cell
                    .entry(&f.cell)
                    .or_insert_with(entry)
                    .0
                    .insert(f.check);
            }
            ("aggregate_metadata", "value_differs") => {
                let e = by_cell.entry(&f.cell).or_insert_with(entry);
                e.0.insert(f.check);
                e.1 = true;
            }
            _ => {}
        }
    }
    e.fixes = by_cell
        .into_iter()
        .map(|(cell, (checks, drift))| {
            format!(
                "cellaudit sync <same topology options> --cell {cell} --check {}{}   (dry run; add --apply to write)",
                checks.into_iter().collect::<Vec<_>>().join(","),
                if drift { " --fix-drift" } else { "" }
            )
        })
        .collect();
}

/// What the API cell answers to "is AZ `az` available" and why, as its release computes it, then which
/// children's schedulers can place a boot into it. From Pike (16.0.0) the API cell lists AZs through
/// `compute.HostAPI` (`nova/availability_zones.py` `get_availability_zones`), under cells v1 the
/// proxying `nova/compute/cells_api.py` `HostAPI`, whose services are named `path!cell@host`
/// (`nova/cells/utils.py` `ServiceProxy`); the requested-AZ check in `nova/compute/api.py` refuses an
/// AZ not in that list. Up to Ocata it listed the API cell's own services, which run no nova-compute.
fn az_answer(a: &Audited, v: &Views<'_>, az: &str) -> Vec<String> {
    use crate::release::Release;
    let mut lines = Vec::new();
    let parent = &v.parent_name;
    let release = a
        .sources
        .iter()
        .find(|s| &s.cell == parent)
        .and_then(|s| s.release);
    let Some(paggs) = v.parent.as_ref() else {
        return lines;
    };
    let default = a.default_az.as_str();
    if az == default {
        lines.push(format!(
            "'{az}' is the default AZ (--default-az): every compute host in no AZ aggregate is in it, and an aggregate naming it changes nothing"
        ));
        return lines;
    }
    // Hosts the top gives this AZ, by child, from members named path!cell@host.
    let mut at_top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut plain: BTreeSet<String> = BTreeSet::new();
    for agg in paggs.all().filter(|x| x.zone(default) == Some(az)) {
        for raw in &agg.hosts {
            let r = HostRef::parse(raw);
            match r.cell {
                Some(c) => {
                    if v.residency.get(&r.host).is_some_and(|cs| cs.contains(&c)) {
                        at_top.entry(c).or_default().insert(r.host);
                    }
                }
                None => {
                    plain.insert(r.host);
                }
            }
        }
    }
    let strict = release.is_some_and(|r| (Release::PIKE..=Release::STEIN).contains(&r));
    match release {
        Some(r) if strict => {
            if at_top.is_empty() {
                lines.push(format!(
                    "the API cell '{parent}' ({r}) answers NO: it lists AZs from its children's services, named path!cell@host, and no aggregate with availability_zone '{az}' has a member so named that is a live compute of that child{}; boots asking for '{az}' are refused",
                    if plain.is_empty() {
                        String::new()
                    } else {
                        format!(" (plain members {} count only for the AZ shown on instances)", crate::checks::join_names(&plain))
                    }
                ));
            } else {
                let via: Vec<String> = at_top
                    .iter()
                    .map(|(c, hs)| format!("{} in {c}", crate::checks::join_names(hs)))
                    .collect();
                lines.push(format!(
                    "the API cell '{parent}' ({r}) answers YES: it lists '{az}' because aggregates there name {} as path!cell@host members",
                    crate::checks::join_names(&via)
                ));
            }
        }
        Some(r) if r <= Release::OCATA => lines.push(format!(
            "the API cell '{parent}' ({r}) lists AZs from the services in its own database (nova/availability_zones.py before Pike), which run no nova-compute: '{az}' is listed only if one of those services is in an aggregate with it"
        )),
        _ => {}
    }
    // Where a boot into the AZ can land: the children whose own aggregates give hosts that AZ.
    let mut can = Vec::new();
    let mut cannot = Vec::new();
    for (cell, aggs, _) in &v.children {
        let Ok(aggs) = aggs else { continue };
        let hosts: BTreeSet<String> = aggs
            .all()
            .filter(|x| x.zone(default) == Some(az))
            .flat_map(|x| x.member_hosts())
            .filter(|h| v.residency.get(h).is_some_and(|cs| cs.contains(cell)))
            .collect();
        if hosts.is_empty() {
            if at_top.contains_key(cell) {
                cannot.push(cell.clone());
            }
        } else {
            can.push(format!("{cell} ({})", crate::checks::join_names(&hosts)));
        }
    }
    if !can.is_empty() {
        lines.push(format!(
            "the children's AvailabilityZoneFilter places it on hosts whose own aggregates carry '{az}': {}",
            crate::checks::join_names(&can)
        ));
    }
    if !cannot.is_empty() {
        lines.push(format!(
            "{} show{} hosts in '{az}' at the top but no aggregate of {} gives them '{az}': a boot routed there fails with NoValidHost",
            crate::checks::join_names(&cannot),
            if cannot.len() == 1 { "s" } else { "" },
            if cannot.len() == 1 { "its own" } else { "their own" }
        ));
    }
    lines
}

/// Where the instance is, before the generic verdict lines, and how Nova would heal it.
pub(crate) fn instance_summary(e: &mut Explanation) {
    let live: Vec<&str> = e
        .instances
        .iter()
        .filter(|r| r.state == "live" && !r.columns.contains_key("hidden"))
        .map(|r| r.cell.as_str())
        .collect();
    let deleted: Vec<&str> = e
        .instances
        .iter()
        .filter(|r| r.state == "deleted")
        .map(|r| r.cell.as_str())
        .collect();
    let mut lines = vec![match (live.is_empty(), deleted.is_empty()) {
        (true, true) => format!("instance {} exists in no audited cell", e.id),
        _ => format!(
            "instance {} is live in {}{}",
            e.id,
            if live.is_empty() {
                "no cell".to_string()
            } else {
                live.join(", ")
            },
            if deleted.is_empty() {
                String::new()
            } else {
                format!("; soft-deleted in {}", deleted.join(", "))
            }
        ),
    }];
    if e.topology == "cells-v1"
        && let Some(top) = e.instances.first()
        && let Some(cn) = top.columns.get("cell_name")
    {
        lines.push(format!("the parent routes it to cell_name '{cn}'"));
    }
    if e.topology == "cells-v2"
        && let Some(api) = e.instances.first()
    {
        lines.push(match api.columns.get("mapped_cell") {
            Some(c) => format!("the API DB maps it to cell {c}"),
            None => "the API DB has no instance mapping for it".to_string(),
        });
        if api.columns.contains_key("build_request") {
            lines.push("a build request for it is still in the API DB".to_string());
        }
    }
    // cellaudit copies aggregates and flavors, not instances: Nova itself heals those upward.
    let kinds: BTreeSet<&str> = e
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| f.kind)
        .collect();
    if kinds.contains("instance_ghost_at_top") {
        e.fixes.push(
            "no child holds it: look for it in the children's shadow_instances (archived) before removing the parent's stale copy at the API cell".to_string(),
        );
    }
    if kinds.iter().any(|k| *k != "instance_ghost_at_top") {
        e.fixes.push(
            "have the child re-send it upward: POST /os-cells/sync_instances (optionally {\"project_id\": ...}) at the API cell, or wait for the child's _heal_instances periodic task".to_string(),
        );
    }
    e.verdict.retain(|l| !lines.contains(l));
    lines.append(&mut e.verdict);
    e.verdict = lines;
}

pub(crate) fn related(
    findings: &[Finding],
    aggregates: &BTreeSet<String>,
    hosts: &BTreeSet<String>,
    instance: Option<&str>,
) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| {
            if let Some(uuid) = instance {
                return f.key.get("instance").is_some_and(|i| i == uuid);
            }
            f.key
                .get("aggregate")
                .is_some_and(|a| aggregates.contains(a))
                || (!f.key.contains_key("aggregate")
                    && f.key.get("host").is_some_and(|h| hosts.contains(h)))
        })
        .cloned()
        .collect()
}

/// `instances` carries the point lookups when the subject is an instance.
pub fn explain(
    a: &Audited,
    subject: Subject,
    id: &str,
    instances: Vec<InstanceRow>,
) -> Explanation {
    let v = views(a);
    let mut e = Explanation {
        topology: "cells-v1",
        subject,
        id: id.to_string(),
        cells: a.report.cells.clone(),
        aggregates: Vec::new(),
        instances,
        hosts: Vec::new(),
        findings: Vec::new(),
        verdict: Vec::new(),
        fixes: Vec::new(),
    };
    let parent_err = "parent could not be read".to_string();
    let parent_aggs = v.parent.as_ref().ok_or(&parent_err);
    let mut agg_names = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    match subject {
        Subject::Aggregate => {
            // An aggregate is named by name or uuid; the name is what matches across databases.
            let all = std::iter::once(parent_aggs.ok())
                .chain(v.children.iter().map(|(_, x, _)| x.as_ref().ok()));
            let name = all
                .flatten()
                .flat_map(|aggs| aggs.iter())
                .find(|x| x.name == id || x.uuid.as_deref() == Some(id))
                .map(|x| x.name.clone())
                .unwrap_or_else(|| id.to_string());
            let pick = |aggs: &Aggregates| aggs.get(&name).cloned();
            e.aggregates
                .push(row(&v.parent_name, parent_aggs, &pick, &name));
            for (cell, aggs, _) in &v.children {
                e.aggregates.push(row(cell, aggs.as_ref(), &pick, &name));
            }
            for r in &e.aggregates {
                hosts.extend(r.hosts.iter().map(|h| HostRef::parse(h).host));
            }
            agg_names.insert(name);
        }
        Subject::Host => {
            hosts.insert(HostRef::parse(id).host);
        }
        Subject::Instance => {
            hosts.extend(
                e.instances
                    .iter()
                    .filter_map(|r| r.columns.get("host").cloned()),
            );
        }
        Subject::Az => {
            let mut add = |cell: &str, aggs: Result<&Aggregates, &String>| match aggs {
                Ok(aggs) => {
                    for x in aggs.iter().filter(|x| x.az() == Some(id)) {
                        let pick = |all: &Aggregates| all.get(&x.name).cloned();
                        e.aggregates.push(row(cell, Ok(aggs), &pick, &x.name));
                        agg_names.insert(x.name.clone());
                        hosts.extend(x.member_hosts());
                    }
                }
                Err(err) => e.aggregates.push(row(cell, Err(err), &|_| None, id)),
            };
            add(&v.parent_name, parent_aggs);
            for (cell, aggs, _) in &v.children {
                add(cell, aggs.as_ref());
            }
            // The same aggregates, where a child lacks them, are part of the picture too.
            for name in agg_names.clone() {
                for (cell, aggs, _) in &v.children {
                    if !e
                        .aggregates
                        .iter()
                        .any(|r| &r.cell == cell && r.name.as_deref() == Some(name.as_str()))
                    {
                        let pick = |all: &Aggregates| all.get(&name).cloned();
                        let mut r = row(cell, aggs.as_ref(), &pick, &name);
                        r.name = Some(name.clone());
                        e.aggregates.push(r);
                    }
                }
            }
        }
    }
    e.hosts = hosts.iter().map(|h| host_row(&v, h)).collect();
    let uuid = (subject == Subject::Instance).then_some(id);
    e.findings = related(&a.report.findings, &agg_names, &hosts, uuid);

    let parent = v.parent_name.clone();
    verdict(&mut e, &parent);
    if subject == Subject::Az {
        let mut lines = az_answer(a, &v, id);
        lines.append(&mut e.verdict);
        e.verdict = lines;
    }
    if subject == Subject::Instance {
        instance_summary(&mut e);
    }
    e
}
