//! The `allocations` check: placement's consumers against the cells' instances and in-progress migrations.
//!
//! Placement's allocations (one row per consumer, provider and resource class; a million rows is a
//! mid-size cloud) are read grouped by consumer in consumer order and merge-joined, by uuid, with
//! every cell's instances read in uuid order, each in its own task ([`crate::merge`]). Nothing is
//! loaded whole but providers, compute nodes and in-progress migrations, which are small.
//!
//! Following `nova-manage placement audit` and `heal_allocations` (nova/cmd/manage.py):
//! - an allocation whose consumer is no live instance and no in-progress migration (the statuses
//!   `migration_get_in_progress_by_host_and_node` keeps, nova/db/main/api.py) is orphaned;
//! - a live instance with a node and no task in progress, and no allocation, needs heal_allocations;
//! - an instance allocating from a provider outside its node's provider tree, neither a sharing
//!   provider nor a node of one of its in-progress migrations, allocates from the wrong provider.

use super::data::{Nova, Placement, ukey};
use crate::checks::{CheckRun, join_names};
use crate::db::{Kind, Row, RowStream, Session, Value};
use crate::findings::{Finding, Outcome, Severity};
use crate::merge::{Group, Merge, Step};
use crate::queries::placement as q;
use std::collections::{BTreeSet, HashMap};

pub const CHECK: &str = "allocations";

const DEPTH: usize = 4;
const ROWS_IN_FLIGHT: usize = 48 * 1024;

const ALLOC_KINDS: &[Kind] = &[Kind::Text, Kind::Text];
const INSTANCE_KINDS: &[Kind] = &[
    Kind::Text, // uuid
    Kind::Text, // display_name
    Kind::Text, // host
    Kind::Text, // node
    Kind::Text, // task_state
    Kind::Int,  // deleted
    Kind::Int,  // hidden
];

/// One cell's open snapshot to stream instances from.
pub struct CellStream {
    pub name: String,
    pub session: Session,
    /// Before Train's `instances.hidden`.
    pub no_hidden: bool,
}

fn text(row: &Row, i: usize) -> Option<&str> {
    match row.get(i) {
        Some(Value::Text(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn flag(row: &Row, i: usize) -> bool {
    row.get(i).is_some_and(|v| v.truthy())
}

struct Audit<'a> {
    placement_name: &'a str,
    placement: &'a Placement,
    nova: &'a Nova,
    /// Source index → cell name (source 0 is placement).
    names: Vec<String>,
    /// Cells whose instances are not in hand (unreadable, not audited, or failed midway).
    unread: BTreeSet<String>,
    migrations_by_uuid: HashMap<String, &'a super::data::Migration>,
    migrations_by_instance: std::collections::BTreeMap<String, Vec<&'a super::data::Migration>>,
    findings: Vec<Finding>,
    /// Consumers that are nothing in the cells read while some cells were not read: not reported one by one.
    undecided: u64,
}

impl Audit<'_> {
    fn provider_label(&self, id: i64) -> String {
        self.placement
            .by_id(id)
            .map(|p| p.label())
            .unwrap_or_else(|| format!("provider id {id}"))
    }

    /// The provider tree root of the node `host`/`node` names in `cell`, if it has a provider.
    fn root_of(&self, cell: Option<&str>, host: Option<&str>, node: Option<&str>) -> Option<i64> {
        let (host, node) = (host?, node?);
        let n = match cell {
            Some(c) => self.nova.node_of(c, host, node),
            None => self.nova.nodes.iter().find(|n| {
                !n.deleted
                    && n.host.as_deref() == Some(host)
                    && n.hypervisor_hostname.as_deref() == Some(node)
            }),
        }?;
        self.placement.by_uuid(&n.uuid).map(|p| p.root)
    }

    fn group(&mut self, g: &Group) {
        let found = self.classify(g);
        self.findings.extend(found);
        if g.rows.len() == 1
            && g.from_source(0).is_some()
            && !self.unread.is_empty()
            && !self.migrations_by_uuid.contains_key(&ukey(&g.key))
        {
            self.undecided += 1;
        }
    }

    fn classify(&self, g: &Group) -> Vec<Finding> {
        let mut out = Vec::new();
        let alloc = g.from_source(0);
        let copies: Vec<(&str, &Row)> = g
            .rows
            .iter()
            .filter(|(s, _)| *s > 0)
            .map(|(s, r)| (self.names[*s].as_str(), r))
            .collect();
        let live: Vec<&(&str, &Row)> = copies.iter().filter(|(_, r)| !flag(r, 5)).collect();
        let key = ukey(&g.key);
        let migrations = self
            .migrations_by_instance
            .get(&key)
            .cloned()
            .unwrap_or_default();
        match alloc {
            Some(a) => {
                let providers: Vec<i64> = text(a, 1)
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
                if live.is_empty() {
                    out.extend(self.unclaimed(&g.key, &copies, &providers));
                } else {
                    out.extend(self.check_providers(&g.key, &live, &migrations, &providers));
                }
            }
            None => {
                // heal_allocations' own conditions (nova/cmd/manage.py _heal_allocations_for_instance):
                // a node, no task in progress; cell0's instances never reached a node.
                for (cell, r) in &live {
                    if flag(r, 6) || text(r, 4).is_some() || !migrations.is_empty() {
                        continue;
                    }
                    let (Some(host), Some(node)) = (text(r, 2), text(r, 3)) else {
                        continue;
                    };
                    // A node without a provider is resource_providers' finding; healing it would fail.
                    let Some(n) = self.nova.node_of(cell, host, node) else {
                        continue;
                    };
                    let Some(p) = self.placement.by_uuid(&n.uuid) else {
                        continue;
                    };
                    let label = instance_label(&g.key, r);
                    out.push(
                        Finding::new(
                            CHECK,
                            "missing_allocation",
                            Severity::Warning,
                            cell,
                            &[("instance", g.key.as_str())],
                            format!(
                                "instance {label} runs on host '{host}' (node '{node}', provider {}) but has no allocation in placement",
                                p.uuid
                            ),
                        )
                        .impact(format!(
                            "placement counts nothing for it, so the scheduler can overfill '{node}' and usage counted from placement is low; run nova-manage placement heal_allocations --instance {}",
                            g.key
                        )),
                    );
                }
            }
        }
        out
    }

    /// An allocation with no live instance behind it: an in-progress migration's, or orphaned.
    fn unclaimed(
        &self,
        consumer: &str,
        copies: &[(&str, &Row)],
        providers: &[i64],
    ) -> Option<Finding> {
        if self.migrations_by_uuid.contains_key(&ukey(consumer)) {
            return None;
        }
        // With cells unread, a consumer found nowhere may live there: counted, not reported (see `run`).
        if copies.is_empty() && !self.unread.is_empty() {
            return None;
        }
        let on: Vec<String> = providers.iter().map(|p| self.provider_label(*p)).collect();
        let what = match copies.first() {
            Some((cell, r)) => format!(
                "instance {} was deleted in {cell}",
                instance_label(consumer, r)
            ),
            None => "it is no instance and no in-progress migration".to_string(),
        };
        Some(
            Finding::new(
                CHECK,
                "orphaned_allocation",
                Severity::Warning,
                self.placement_name,
                &[("consumer", consumer)],
                format!(
                    "consumer {consumer} allocates from {}, but {what}",
                    join_names(&on)
                ),
            )
            .impact(format!(
                "its resources stay used: the providers look fuller than they are and quota counted from placement stays consumed; nova-manage placement audit --delete (or `openstack resource provider allocation delete {consumer}`) removes it"
            )),
        )
    }

    fn check_providers(
        &self,
        uuid: &str,
        live: &[&(&str, &Row)],
        migrations: &[&super::data::Migration],
        providers: &[i64],
    ) -> Option<Finding> {
        // Only the hidden copy of a cross-cell resize is here: the instance users see is in another cell.
        if live.iter().all(|(_, r)| flag(r, 6)) {
            return None;
        }
        let mut roots = BTreeSet::new();
        for (cell, r) in live {
            if let Some(root) = self.root_of(Some(cell), text(r, 2), text(r, 3)) {
                roots.insert(root);
            }
        }
        for m in migrations {
            for (h, n) in [&m.source, &m.dest] {
                if let Some(root) = self.root_of(Some(&m.cell), h.as_deref(), n.as_deref()) {
                    roots.insert(root);
                }
            }
        }
        // Where the instance's node is unknown or has no provider, nothing can be concluded.
        if roots.is_empty() {
            return None;
        }
        let wrong: Vec<i64> = providers
            .iter()
            .copied()
            .filter(|id| match self.placement.by_id(*id) {
                Some(p) => !roots.contains(&p.root) && !p.sharing,
                None => true,
            })
            .collect();
        if wrong.is_empty() {
            return None;
        }
        // With cells unread, another live copy (a twin, a resize's other side) may be on that provider's node.
        if !self.unread.is_empty() {
            let live_nodes = self.nova.live_by_uuid();
            let known = |id: &i64| {
                self.placement
                    .by_id(*id)
                    .is_some_and(|p| live_nodes.contains_key(&ukey(&p.uuid)))
            };
            if !wrong.iter().all(known) {
                return None;
            }
        }
        let (cell, r) = live[0];
        let expected: Vec<String> = roots.iter().map(|id| self.provider_label(*id)).collect();
        let got: Vec<String> = wrong.iter().map(|id| self.provider_label(*id)).collect();
        Some(
            Finding::new(
                CHECK,
                "wrong_provider",
                Severity::Failure,
                cell,
                &[("instance", uuid)],
                format!(
                    "instance {} runs on host '{}' (node '{}', provider {}) but allocates from {}",
                    instance_label(uuid, r),
                    text(r, 2).unwrap_or_default(),
                    text(r, 3).unwrap_or_default(),
                    join_names(&expected),
                    join_names(&got)
                ),
            )
            .impact(format!(
                "placement counts its usage where it does not run: one node looks fuller, its real node emptier and can be overfilled; nova-manage placement heal_allocations --instance {uuid} --force rewrites it"
            )),
        )
    }
}

fn instance_label(uuid: &str, r: &Row) -> String {
    match text(r, 1) {
        Some(n) => format!("{uuid} ('{n}')"),
        None => uuid.to_string(),
    }
}

/// Streams placement's allocations and every cell's instances and merge-joins them.
/// Returns the run and each session back (`None` where its stream was abandoned and its connection closed).
pub async fn run(
    placement_name: &str,
    placement_session: Session,
    cells: Vec<CellStream>,
    unread: BTreeSet<String>,
    placement: &Placement,
    nova: &Nova,
) -> (CheckRun, Vec<Option<Session>>) {
    let batch = (ROWS_IN_FLIGHT / ((1 + cells.len()) * DEPTH)).clamp(64, 1024);
    let mut names = vec![placement_name.to_string()];
    let mut streams: Vec<RowStream> = Vec::new();
    let sql = q::ALLOCATIONS.sql(placement_session.dialect());
    streams.push(placement_session.stream(sql, ALLOC_KINDS, batch, DEPTH));
    for c in cells {
        let query = if c.no_hidden {
            &q::INSTANCES_NO_HIDDEN
        } else {
            &q::INSTANCES
        };
        let sql = query.sql(c.session.dialect());
        names.push(c.name);
        streams.push(c.session.stream(sql, INSTANCE_KINDS, batch, DEPTH));
    }
    let (by_uuid, by_instance) = nova.migrations_index();
    let mut audit = Audit {
        placement_name,
        placement,
        nova,
        names,
        unread,
        migrations_by_uuid: by_uuid,
        migrations_by_instance: by_instance,
        findings: Vec::new(),
        undecided: 0,
    };
    let mut run = CheckRun::default();
    let mut failed: std::collections::BTreeMap<usize, String> = Default::default();
    let mut merge = Merge::new(streams, 0);
    while let Some(step) = merge.next().await {
        match step {
            Step::Group(g) => audit.group(&g),
            Step::Failed { source: 0, error } => {
                failed.insert(0, error);
                break;
            }
            Step::Failed { source, error } => {
                audit.unread.insert(audit.names[source].clone());
                failed.insert(source, error);
            }
        }
    }
    let mut back = Vec::new();
    for s in merge.into_sources() {
        back.push(s.finish().await);
    }
    if let Some(error) = failed.get(&0) {
        run.outcomes.push((
            placement_name.to_string(),
            Outcome::Skipped {
                reason: format!("reading allocations: {error}"),
            },
        ));
        return (run, back);
    }
    for (i, name) in audit.names.iter().enumerate() {
        let o = match failed.get(&i) {
            Some(e) => Outcome::Skipped {
                reason: format!("reading instances: {e}"),
            },
            None => Outcome::Ran,
        };
        run.outcomes.push((name.clone(), o));
    }
    if audit.undecided > 0 {
        let unread: Vec<&String> = audit.unread.iter().collect();
        audit.findings.push(
            Finding::new(
                CHECK,
                "consumers_undecided",
                Severity::Info,
                placement_name,
                &[("cells", join_names(&unread).as_str())],
                format!(
                    "{} consumers allocate in placement but are no instance or in-progress migration in the cells read; {} not read, so none of them is reported as orphaned",
                    audit.undecided,
                    join_names(&unread)
                ),
            )
            .impact("audit every cell to tell orphaned allocations from those of instances there"),
        );
    }
    // A cell that failed midway contributes nothing partial.
    let failed_cells: BTreeSet<&str> = failed.keys().map(|i| audit.names[*i].as_str()).collect();
    run.findings = audit
        .findings
        .into_iter()
        .filter(|f| !failed_cells.contains(f.cell.as_str()))
        .collect();
    (run, back)
}
