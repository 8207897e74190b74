//! Turns the audit's findings (and the snapshot rows they name) into a per-child plan of bound statements; it reads and writes nothing.

use super::sql::{self, Bind, Stmt, Table};
use crate::checks::{CellView, Residency};
use crate::config::CellSpec;
use crate::db::{Dialect, Value};
use crate::dburl::DbUrl;
use crate::engine::Audited;
use crate::findings::Finding;
use crate::queries;
use crate::snapshot::CellData;
use crate::v1::{self, AZ_KEY, Aggregate, Aggregates};
use crate::v1_release::Era;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The checks whose findings sync knows how to fix, in the order their steps are planned.
pub const SYNC_CHECKS: &[&str] = &[
    "aggregates",
    "aggregate_metadata",
    "aggregate_hosts",
    "flavors",
];

/// Enough of a finding to find it again in a later audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    pub check: String,
    pub kind: String,
    pub cell: String,
    pub key: BTreeMap<String, String>,
}

impl FindingRef {
    pub fn of(f: &Finding) -> FindingRef {
        FindingRef {
            check: f.check.to_string(),
            kind: f.kind.to_string(),
            cell: f.cell.clone(),
            key: f
                .key
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    pub fn matches(&self, f: &Finding) -> bool {
        *self == FindingRef::of(f)
    }

    pub fn text(&self) -> String {
        let key: Vec<String> = self.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}/{} {}", self.check, self.kind, key.join(" "))
    }
}

/// What a re-check inside the transaction must find for the plan to still hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    NoRow,
    SomeRow,
    /// Exactly one row, whose column `column` holds `value` (the planned old value of an update).
    OneRowWithValue {
        column: usize,
        value: String,
    },
}

#[derive(Debug, Clone)]
pub struct Guard {
    pub stmt: Stmt,
    pub expect: Expect,
    /// What the plan assumed, in words, for the rollback message.
    pub assumes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Insert,
    /// `row_guard` is the guard whose single row is the row being updated (id, value, updated_at).
    Update {
        old: String,
        new: String,
        row_guard: usize,
    },
}

/// Which aggregate a step touches in the child: one it already has, or one this plan inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AggId {
    Existing(i64),
    New(usize),
}

/// How a step changes availability zones, for the "one AZ per host" rule.
#[derive(Debug, Clone, PartialEq)]
enum AzEffect {
    None,
    HostJoins { agg: AggId, host: String },
    SetsAz { agg: AggId, az: String },
}

impl AzEffect {
    /// Writing metadata key `k` sets the aggregate's AZ only when `k` is `availability_zone`.
    fn of_metadata(k: &str, agg: AggId, value: String) -> AzEffect {
        if k == AZ_KEY {
            AzEffect::SetsAz { agg, az: value }
        } else {
            AzEffect::None
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub table: &'static Table,
    pub action: Action,
    /// The row in words, e.g. `aggregate 'az-west-agg' (AZ 'az-west')`.
    pub what: String,
    pub guards: Vec<Guard>,
    pub stmt: Stmt,
    /// The new-id slot this insert fills, for later statements' foreign keys.
    pub defines: Option<usize>,
    /// The finding this step fixes; `None` for rows that come with a copied aggregate or flavor.
    pub fixes: Option<FindingRef>,
    /// The id an insert gives explicitly (a flavor keeping the parent's id).
    pub fixed_id: Option<i64>,
    /// Something the operator must know before applying (e.g. a flavor that cannot keep its id).
    pub warning: Option<String>,
    az: AzEffect,
}

/// A finding the plan will not act on, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub finding: Option<FindingRef>,
    pub what: String,
    pub reason: String,
}

#[derive(Debug)]
pub struct ChildPlan {
    pub cell: String,
    /// The database, password masked.
    pub shown: String,
    pub dialect: Dialect,
    pub steps: Vec<Step>,
    /// What each new-id slot holds, e.g. `aggregates.id of 'az-west-agg'`.
    pub new_ids: Vec<String>,
    /// Findings not acted on for a reason the operator must see (host in two AZs, drift without --fix-drift).
    pub refused: Vec<Refusal>,
    /// Findings sync never acts on (it neither deletes nor guesses), listed so nothing is silently ignored.
    pub left_alone: Vec<String>,
    /// Parent member hosts not added here because they do not live here.
    pub not_here: Vec<String>,
    /// Set when the child could not be read, so nothing is planned for it.
    pub unavailable: Option<String>,
    /// The plan writes the child's own API database (Newton to Stein), not its main database.
    pub api: bool,
}

impl ChildPlan {
    pub fn count(&self, table: &str, insert: bool) -> usize {
        self.steps
            .iter()
            .filter(|s| s.table.name == table && (s.action == Action::Insert) == insert)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

#[derive(Debug)]
pub struct Plan {
    pub parent: String,
    /// The time stamped on inserted and updated rows (UTC, as Nova writes it).
    pub now: String,
    pub children: Vec<ChildPlan>,
}

impl Plan {
    pub fn steps(&self) -> usize {
        self.children.iter().map(|c| c.steps.len()).sum()
    }
}

/// What the plan is made from.
pub struct Inputs<'a> {
    pub audited: &'a Audited,
    pub specs: &'a [CellSpec],
    /// The cells' API databases (Newton to Stein), named after their cells.
    pub apis: &'a [CellSpec],
    /// The children to plan for (all audited children when empty).
    pub cells: &'a [String],
    pub checks: &'a [&'static str],
    pub fix_drift: bool,
    pub now: String,
}

fn dialect(spec: &CellSpec) -> Dialect {
    match &spec.url {
        Ok(DbUrl::Sqlite { .. }) => Dialect::Sqlite,
        _ => Dialect::MySql,
    }
}

/// One parent flavor: its id and the values of `sync_parent_flavors.sql`, in that query's column order.
struct ParentFlavor {
    id: i64,
    name: String,
    row: Vec<Value>,
}

/// The parent's snapshot as the steps need it.
struct ParentRows {
    aggs: Result<Aggregates, String>,
    times: BTreeMap<i64, (Value, Value)>,
    /// Live flavors by flavorid.
    flavors: BTreeMap<String, ParentFlavor>,
    /// Extra specs by flavor id, then key.
    specs: BTreeMap<i64, BTreeMap<String, Option<String>>>,
}

/// Live extra specs by flavor id, then key, from the flavors check's dataset.
fn flavor_specs(data: &CellData) -> BTreeMap<i64, BTreeMap<String, Option<String>>> {
    let mut out: BTreeMap<i64, BTreeMap<String, Option<String>>> = BTreeMap::new();
    for r in data.rows(&queries::FLAVOR_EXTRA_SPECS).unwrap_or_default() {
        if let (Some(id), Some(k)) = (r[0].as_int(), r[1].as_text()) {
            out.entry(id).or_default().insert(k, r[2].as_text());
        }
    }
    out
}

/// A child's flavor rows, to know which ids are taken and which flavors it has.
#[derive(Default)]
struct ChildFlavors {
    /// Every id in use, soft-deleted rows included (the primary key knows no `deleted`).
    taken: BTreeMap<i64, (String, bool)>,
    /// Live flavors: flavorid -> id.
    live: BTreeMap<String, i64>,
    /// Live names, by `name_collation`'s key (one name to the database's unique key) -> (name, flavorid).
    names: BTreeMap<String, (String, String)>,
    /// How the child compares `instance_types.name` and `.flavorid` (unique keys with `deleted`).
    name_collation: crate::collation::Collation,
    flavorid_collation: crate::collation::Collation,
    specs: BTreeMap<i64, BTreeMap<String, Option<String>>>,
}

impl ChildFlavors {
    fn read(data: &CellData) -> ChildFlavors {
        let mut out = ChildFlavors {
            specs: flavor_specs(data),
            name_collation: data.schema.collation("instance_types", "name"),
            flavorid_collation: data.schema.collation("instance_types", "flavorid"),
            ..Default::default()
        };
        for r in data.rows(&sql::CHILD_FLAVOR_IDS).unwrap_or_default() {
            let (Some(id), Some(fid)) = (r[0].as_int(), r[1].as_text()) else {
                continue;
            };
            let deleted = r[3].truthy();
            out.taken.insert(id, (fid.clone(), deleted));
            if !deleted {
                if let Some(n) = r[2].as_text() {
                    let k = out.name_collation.key(&n).into_owned();
                    out.names.insert(k, (n, fid.clone()));
                }
                out.live.insert(fid, id);
            }
        }
        out
    }
}

impl ParentRows {
    fn read(data: &CellData) -> ParentRows {
        let times = data
            .rows(&sql::PARENT_AGGREGATE_TIMES)
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| Some((r[0].as_int()?, (r[1].clone(), r[2].clone()))))
                    .collect()
            })
            .unwrap_or_default();
        let flavors = data
            .rows(&sql::PARENT_FLAVORS)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                Some((
                    r[8].as_text()?,
                    ParentFlavor {
                        id: r[0].as_int()?,
                        name: r[3].as_text().unwrap_or_default(),
                        row: r.clone(),
                    },
                ))
            })
            .collect();
        ParentRows {
            aggs: v1::aggregates(data),
            times,
            flavors,
            specs: flavor_specs(data),
        }
    }
}

pub fn build(inp: &Inputs<'_>) -> Result<Plan, String> {
    let report = &inp.audited.report;
    if let Some(why) = &report.aborted {
        return Err(why.clone());
    }
    let pdata = inp
        .audited
        .parent
        .as_ref()
        .ok_or_else(|| "the parent could not be read".to_string())?;
    let parent = ParentRows::read(pdata);
    let views: Vec<CellView<'_>> = inp
        .audited
        .children
        .iter()
        .map(|(n, d)| CellView {
            name: n,
            data: d.as_ref(),
        })
        .collect();
    let residency = Residency::build(&views);
    let mut plan = Plan {
        parent: report
            .cells
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        now: inp.now.clone(),
        children: Vec::new(),
    };
    for spec in inp.specs {
        if !inp.cells.is_empty() && !inp.cells.contains(&spec.name) {
            continue;
        }
        let mut cp = ChildPlan {
            cell: spec.name.clone(),
            shown: spec.shown.clone(),
            dialect: dialect(spec),
            steps: Vec::new(),
            new_ids: Vec::new(),
            refused: Vec::new(),
            left_alone: Vec::new(),
            not_here: Vec::new(),
            unavailable: None,
            api: false,
        };
        let data = inp
            .audited
            .children
            .iter()
            .find(|(n, _)| n == &spec.name)
            .and_then(|(_, d)| d.as_ref());
        let Some(data) = data else {
            cp.unavailable = Some(
                report
                    .cells
                    .iter()
                    .find(|c| c.name == spec.name)
                    .and_then(|c| c.error.clone())
                    .unwrap_or_else(|| "not read".into()),
            );
            plan.children.push(cp);
            continue;
        };
        // Write where the release reads: the main database up to Mitaka, the child's own API
        // database from Newton on (`crate::v1_release`); never a main-database table it no longer reads.
        let source = inp.audited.sources.iter().find(|s| s.cell == spec.name);
        let era = source.map_or(Era::Unknown, |s| s.era);
        let catalogue = match era {
            Era::MainDb | Era::Unknown => {
                if data.schema.missing("aggregates", &["uuid"]).is_some() {
                    &sql::MAIN_NO_UUID
                } else {
                    &sql::MAIN
                }
            }
            Era::Merged | Era::ApiDb => {
                match inp.apis.iter().find(|a| a.name == spec.name) {
                    Some(api) if api.url.is_ok() => {
                        cp.shown = api.shown.clone();
                        cp.dialect = dialect(api);
                        cp.api = true;
                    }
                    _ => {
                        cp.unavailable = Some(format!(
                            "{} keeps aggregates and flavors in the API database, and none was given for {}: give {} (sync never writes the main-database tables this release no longer reads)",
                            crate::v1_release::shown_release(source.and_then(|s| s.release)),
                            spec.name,
                            crate::v1_release::api_flag(spec)
                        ));
                        plan.children.push(cp);
                        continue;
                    }
                }
                &sql::API
            }
        };
        let mut b = ChildBuilder {
            sql: catalogue,
            cp,
            parent: &parent,
            child: v1::aggregates(data),
            flavors: ChildFlavors::read(data),
            residency: &residency,
            now: &inp.now,
            fix_drift: inp.fix_drift,
        };
        for check in SYNC_CHECKS {
            if !inp.checks.contains(check) {
                continue;
            }
            for f in report
                .findings
                .iter()
                .filter(|f| f.cell == spec.name && f.check == *check)
            {
                b.finding(f);
            }
        }
        let mut cp = b.cp;
        refuse_az_conflicts(&mut cp, data);
        refuse_undecodable(&mut cp);
        plan.children.push(cp);
    }
    Ok(plan)
}

struct ChildBuilder<'a> {
    cp: ChildPlan,
    /// Where this child's release keeps what sync writes: its main database or its own API database.
    sql: &'static sql::Catalogue,
    parent: &'a ParentRows,
    child: Result<Aggregates, String>,
    flavors: ChildFlavors,
    residency: &'a Residency,
    now: &'a str,
    fix_drift: bool,
}

fn key<'f>(f: &'f Finding, k: &str) -> Option<&'f str> {
    f.key.get(k).map(String::as_str)
}

impl ChildBuilder<'_> {
    fn cell(&self) -> &str {
        &self.cp.cell
    }

    fn leave(&mut self, f: &Finding, why: &str) {
        self.cp
            .left_alone
            .push(format!("{}: {why}", FindingRef::of(f).text()));
    }

    fn refuse(&mut self, f: Option<&Finding>, what: String, reason: String) {
        self.cp.refused.push(Refusal {
            finding: f.map(FindingRef::of),
            what,
            reason,
        });
    }

    fn parent_agg(&self, name: &str) -> Option<&Aggregate> {
        self.parent.aggs.as_ref().ok().and_then(|a| a.get(name))
    }

    /// The child's aggregate by the child's own collation (see `Aggregates::find`).
    fn child_agg(&self, name: &str) -> Option<&Aggregate> {
        self.child.as_ref().ok().and_then(|a| a.find(name))
    }

    fn finding(&mut self, f: &Finding) {
        match (f.check, f.kind) {
            ("aggregates", "missing_in_child") => self.copy_aggregate(f),
            ("aggregate_metadata", "missing_in_child") => self.add_metadata(f),
            ("aggregate_metadata", "value_differs") => self.fix_metadata(f),
            ("aggregate_hosts", "missing_in_child") => self.add_host(f),
            ("flavors", "missing_in_child") => self.copy_flavor(f),
            ("flavors", "spec_missing_in_child") => self.add_spec(f),
            ("flavors", "spec_value_differs") => self.fix_spec(f),
            ("flavors", "value_differs") => self.leave(
                f,
                "sync does not resize or rename flavors: instances built with the child's values keep them; change it by hand if intended",
            ),
            ("flavors", "id_differs" | "id_collision") => self.leave(
                f,
                "needs a person: a flavor's id is referenced by instances.instance_type_id",
            ),
            ("flavors", "access_missing_in_child" | "access_extra_in_child") => {
                self.leave(f, "flavor access is managed at the parent only")
            }
            ("aggregates", "uuid_differs") => {
                self.leave(f, "informational; the child's uuid is kept")
            }
            (_, "extra_in_child" | "only_in_child" | "deleted_in_parent" | "spec_extra_in_child") => self.leave(
                f,
                "sync never deletes; remove it with Nova's API in that cell if it is unwanted",
            ),
            _ => self.leave(f, "needs a person to decide"),
        }
    }

    /// The guard "this child aggregate is still the live one the plan read".
    fn agg_guard(&self, agg: &Aggregate) -> Guard {
        Guard {
            stmt: Stmt::new(
                self.sql.lock_aggregate_by_id,
                vec![Bind::int(agg.id), Bind::text(&agg.name)],
            ),
            expect: Expect::SomeRow,
            assumes: format!(
                "aggregate '{}' is still live in {} with id {}",
                agg.name,
                self.cell(),
                agg.id
            ),
        }
    }

    /// The re-check that `host` still runs nova-compute here; none when writing an API database,
    /// which has no `services` (the plan's snapshot of the main database is then all there is).
    fn service_guard(&self, host: &str) -> Option<Guard> {
        Some(Guard {
            stmt: Stmt::new(self.sql.lock_compute_service?, vec![Bind::text(host)]),
            expect: Expect::SomeRow,
            assumes: format!(
                "host '{host}' still runs a live nova-compute in {}",
                self.cell()
            ),
        })
    }

    /// Refuses a change to a child row that lives in a main-database table its release no longer
    /// writes (merged ids are negative, `crate::v1_release`): Newton to Queens read those rows but
    /// create nothing there, and a write keeps `Aggregate.create` and the Ocata `db sync` blocked.
    fn refuse_legacy(&mut self, f: &Finding, what: String, id: i64) -> bool {
        if id >= 0 {
            return false;
        }
        let cell = self.cell().to_string();
        self.refuse(
            Some(f),
            what,
            format!("{cell}'s copy is a leftover row of its main database, which this release reads but no longer writes; run `nova-manage db online_data_migrations` in {cell} to move it to the API database, then sync again"),
        );
        true
    }

    /// Whether `host` may be added here: it must live here and nowhere else.
    fn host_home(&mut self, f: Option<&Finding>, agg: &str, host: &str) -> bool {
        let cells = self.residency.cells(host);
        let cell = self.cell().to_string();
        match cells {
            [only] if *only == cell => true,
            _ if cells.contains(&cell) => {
                self.refuse(
                    f,
                    format!("host '{host}' in aggregate '{agg}'"),
                    format!(
                        "'{host}' runs a live nova-compute in {} at once; a host belongs to one cell, so fix that first",
                        crate::checks::join_names(cells)
                    ),
                );
                false
            }
            [] => {
                self.cp
                    .not_here
                    .push(format!("{host} ({agg}): lives in no audited child"));
                false
            }
            _ => {
                self.cp.not_here.push(format!(
                    "{host} ({agg}): lives in {}",
                    crate::checks::join_names(cells)
                ));
                false
            }
        }
    }

    fn copy_aggregate(&mut self, f: &Finding) {
        let Some(name) = key(f, "aggregate") else {
            return self.leave(f, "finding without an aggregate name");
        };
        let Some(agg) = self.parent_agg(name).cloned() else {
            return self.leave(f, "the parent's row was not readable");
        };
        // Never an insert the child's database would take for a second copy of a name it has: its
        // collation (general_ci on MySQL) calls 'SSD-AGG' and 'ssd-agg ' one name, and the apply-time
        // guard would then find that row and roll the whole child back.
        if let Some(theirs) = self.child_agg(name).map(|a| a.name.clone()) {
            return self.refuse(
                Some(f),
                format!("aggregate '{name}'"),
                format!(
                    "{} already has aggregate {theirs:?}, the same name to its database's collation; rename one with the API so both match exactly",
                    self.cell()
                ),
            );
        }
        let (created, updated) = self
            .parent
            .times
            .get(&agg.id)
            .cloned()
            .unwrap_or((Value::Null, Value::Null));
        let slot = self.cp.new_ids.len();
        self.cp.new_ids.push(format!("aggregates.id of '{name}'"));
        let az = agg.az().map(|a| format!(" (AZ '{a}')")).unwrap_or_default();
        let uuid = agg.uuid.clone().filter(|_| self.sql.has_uuid);
        self.cp.steps.push(Step {
            table: self.sql.aggregates,
            action: Action::Insert,
            what: format!("aggregate '{name}'{az}"),
            guards: vec![Guard {
                stmt: Stmt::new(
                    self.sql.lock_aggregate_by_name,
                    if self.sql.has_uuid {
                        vec![Bind::text(name), Bind::opt_text(uuid.clone())]
                    } else {
                        vec![Bind::text(name)]
                    },
                ),
                expect: Expect::NoRow,
                assumes: format!(
                    "{} has no live aggregate named '{name}'{}",
                    self.cell(),
                    uuid.as_ref()
                        .map(|u| format!(" or with uuid {u}"))
                        .unwrap_or_default()
                ),
            }],
            stmt: Stmt::new(
                self.sql.insert_aggregate,
                if self.sql.has_uuid {
                    vec![
                        Bind::Value(created),
                        Bind::Value(updated),
                        Bind::text(name),
                        Bind::opt_text(uuid),
                    ]
                } else {
                    vec![Bind::Value(created), Bind::Value(updated), Bind::text(name)]
                },
            ),
            defines: Some(slot),
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::None,
        });
        for (k, v) in &agg.metadata {
            self.cp.steps.push(Step {
                table: self.sql.aggregate_metadata,
                action: Action::Insert,
                what: format!("{k}={v} on new aggregate '{name}'"),
                guards: Vec::new(),
                stmt: Stmt::new(
                    self.sql.insert_aggregate_metadata,
                    vec![
                        Bind::text(self.now),
                        Bind::NewId(slot),
                        Bind::text(k),
                        Bind::text(v),
                    ],
                ),
                defines: None,
                fixes: None,
                fixed_id: None,
                warning: None,
                az: AzEffect::of_metadata(k, AggId::New(slot), v.clone()),
            });
        }
        for host in agg.member_hosts() {
            if !self.host_home(None, name, &host) {
                continue;
            }
            let guards: Vec<Guard> = self.service_guard(&host).into_iter().collect();
            self.cp.steps.push(Step {
                table: self.sql.aggregate_hosts,
                action: Action::Insert,
                what: format!("host '{host}' in new aggregate '{name}'"),
                guards,
                stmt: Stmt::new(
                    self.sql.insert_aggregate_host,
                    vec![Bind::text(self.now), Bind::text(&host), Bind::NewId(slot)],
                ),
                defines: None,
                fixes: None,
                fixed_id: None,
                warning: None,
                az: AzEffect::HostJoins {
                    agg: AggId::New(slot),
                    host,
                },
            });
        }
    }

    fn add_metadata(&mut self, f: &Finding) {
        let (Some(name), Some(k)) = (key(f, "aggregate"), key(f, "key")) else {
            return self.leave(f, "finding without aggregate and key");
        };
        let (Some(p), Some(c)) = (self.parent_agg(name), self.child_agg(name)) else {
            return self.leave(f, "the rows it names were not readable");
        };
        let Some(v) = p.metadata.get(k).cloned() else {
            return self.leave(f, "the parent no longer has the key");
        };
        let c = c.clone();
        if self.refuse_legacy(f, format!("{k} of aggregate '{name}'"), c.id) {
            return;
        }
        let guards = vec![
            self.agg_guard(&c),
            Guard {
                stmt: Stmt::new(
                    self.sql.lock_aggregate_metadata,
                    vec![Bind::int(c.id), Bind::text(k)],
                ),
                expect: Expect::NoRow,
                assumes: format!("aggregate '{name}' has no live '{k}' in {}", self.cell()),
            },
        ];
        self.cp.steps.push(Step {
            table: self.sql.aggregate_metadata,
            action: Action::Insert,
            what: format!("{k}={v} on aggregate '{name}'"),
            guards,
            stmt: Stmt::new(
                self.sql.insert_aggregate_metadata,
                vec![
                    Bind::text(self.now),
                    Bind::int(c.id),
                    Bind::text(k),
                    Bind::text(&v),
                ],
            ),
            defines: None,
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::of_metadata(k, AggId::Existing(c.id), v),
        });
    }

    fn fix_metadata(&mut self, f: &Finding) {
        let (Some(name), Some(k)) = (key(f, "aggregate"), key(f, "key")) else {
            return self.leave(f, "finding without aggregate and key");
        };
        let (Some(p), Some(c)) = (self.parent_agg(name), self.child_agg(name)) else {
            return self.leave(f, "the rows it names were not readable");
        };
        let (Some(new), Some(old)) = (p.metadata.get(k).cloned(), c.metadata.get(k).cloned())
        else {
            return self.leave(f, "the values it names were not readable");
        };
        let c = c.clone();
        if self.refuse_legacy(f, format!("{k} of aggregate '{name}'"), c.id) {
            return;
        }
        if !self.fix_drift {
            let cell = self.cell().to_string();
            return self.refuse(
                Some(f),
                format!("{k} of aggregate '{name}'"),
                format!("drift: '{old}' in {cell}, '{new}' in the parent; --fix-drift updates it"),
            );
        }
        let guards = vec![
            self.agg_guard(&c),
            Guard {
                stmt: Stmt::new(
                    self.sql.lock_aggregate_metadata,
                    vec![Bind::int(c.id), Bind::text(k)],
                ),
                expect: Expect::OneRowWithValue {
                    column: 1,
                    value: old.clone(),
                },
                assumes: format!(
                    "aggregate '{name}' still has {k}='{old}' in {}",
                    self.cell()
                ),
            },
        ];
        self.cp.steps.push(Step {
            table: self.sql.aggregate_metadata,
            action: Action::Update {
                old: old.clone(),
                new: new.clone(),
                row_guard: 1,
            },
            what: format!("{k} of aggregate '{name}': '{old}' -> '{new}'"),
            guards,
            stmt: Stmt::new(
                self.sql.update_aggregate_metadata,
                vec![
                    Bind::text(&new),
                    Bind::text(self.now),
                    Bind::int(c.id),
                    Bind::text(k),
                    Bind::text(&old),
                ],
            ),
            defines: None,
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::of_metadata(k, AggId::Existing(c.id), new),
        });
    }

    fn add_host(&mut self, f: &Finding) {
        let (Some(name), Some(host)) = (key(f, "aggregate"), key(f, "host")) else {
            return self.leave(f, "finding without aggregate and host");
        };
        let Some(c) = self.child_agg(name).cloned() else {
            return self.leave(f, "the child's aggregate was not readable");
        };
        if self.refuse_legacy(f, format!("host '{host}' in aggregate '{name}'"), c.id) {
            return;
        }
        if !self.host_home(Some(f), name, host) {
            return;
        }
        let mut guards = vec![
            self.agg_guard(&c),
            Guard {
                stmt: Stmt::new(
                    self.sql.lock_aggregate_host,
                    vec![Bind::int(c.id), Bind::text(host)],
                ),
                expect: Expect::NoRow,
                assumes: format!(
                    "aggregate '{name}' does not list '{host}' in {}",
                    self.cell()
                ),
            },
        ];
        guards.extend(self.service_guard(host));
        self.cp.steps.push(Step {
            table: self.sql.aggregate_hosts,
            action: Action::Insert,
            what: format!("host '{host}' in aggregate '{name}'"),
            guards,
            stmt: Stmt::new(
                self.sql.insert_aggregate_host,
                vec![Bind::text(self.now), Bind::text(host), Bind::int(c.id)],
            ),
            defines: None,
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::HostJoins {
                agg: AggId::Existing(c.id),
                host: host.to_string(),
            },
        });
    }
}

impl ChildBuilder<'_> {
    fn flavor_guard(&self, id: i64, fid: &str) -> Guard {
        Guard {
            stmt: Stmt::new(
                self.sql.lock_flavor_by_id,
                vec![Bind::int(id), Bind::text(fid)],
            ),
            expect: Expect::SomeRow,
            assumes: format!(
                "flavor '{fid}' is still live in {} with id {id}",
                self.cell()
            ),
        }
    }

    fn copy_flavor(&mut self, f: &Finding) {
        let Some(fid) = key(f, "flavor") else {
            return self.leave(f, "finding without a flavorid");
        };
        let Some(pf) = self.parent.flavors.get(fid) else {
            return self.leave(f, "the parent's row was not readable");
        };
        let (id, name, row) = (pf.id, pf.name.clone(), pf.row.clone());
        // Names (and flavorids) are unique keys compared by the child's collation: 'm1.Small' and
        // 'm1.small ' are one name to a general_ci column, and the insert would be rejected.
        let name_key = self.flavors.name_collation.key(&name).into_owned();
        if let Some((theirs, other)) = self.flavors.names.get(&name_key).filter(|(_, o)| o != fid) {
            let cell = self.cell().to_string();
            let named = if *theirs == name {
                format!("'{name}'")
            } else {
                format!("{theirs:?} (the same name as '{name}' to its database's collation)")
            };
            return self.refuse(
                Some(f),
                format!("flavor '{name}' (flavorid {fid})"),
                format!("{cell} already has a live flavor named {named}, flavorid {other}; names are unique"),
            );
        }
        let fc = self.flavors.flavorid_collation;
        if let Some(other) = self
            .flavors
            .live
            .keys()
            .find(|o| o.as_str() != fid && fc.key(o) == fc.key(fid))
        {
            let cell = self.cell().to_string();
            return self.refuse(
                Some(f),
                format!("flavor '{name}' (flavorid {fid})"),
                format!("{cell} already has flavorid {other:?}, the same flavorid to its database's collation; flavorids are unique"),
            );
        }
        let keep = !self.flavors.taken.contains_key(&id);
        let slot = self.cp.new_ids.len();
        self.cp
            .new_ids
            .push(format!("instance_types.id of flavor '{fid}'"));
        let mut guards = vec![Guard {
            stmt: Stmt::new(
                self.sql.lock_flavor_clash,
                vec![Bind::text(fid), Bind::text(&name)],
            ),
            expect: Expect::NoRow,
            assumes: format!(
                "{} has no live flavor with flavorid '{fid}' or name '{name}'",
                self.cell()
            ),
        }];
        // Columns of sync_parent_flavors.sql: id, created_at, updated_at, name, then the copied values.
        let mut binds: Vec<Bind> = vec![
            Bind::Value(row[1].clone()),
            Bind::Value(row[2].clone()),
            Bind::Value(row[3].clone()),
        ];
        let warning = if keep {
            guards.push(Guard {
                stmt: Stmt::new(self.sql.lock_flavor_id, vec![Bind::int(id)]),
                expect: Expect::NoRow,
                assumes: format!("no row of {}'s instance_types has id {id}", self.cell()),
            });
            binds.push(Bind::int(id));
            None
        } else {
            let (holder, deleted) = self.flavors.taken.get(&id).cloned().unwrap_or_default();
            Some(format!(
                "id {id} is taken in {} by {}flavor '{holder}', so the copy gets a new id: cells v1 copies instances.instance_type_id up unchanged, and instances of '{name}' built in {} will show at the top as another flavor until the ids agree",
                self.cell(),
                if deleted { "the soft-deleted " } else { "" },
                self.cell()
            ))
        };
        binds.extend(row[4..].iter().cloned().map(Bind::Value));
        self.cp.steps.push(Step {
            table: self.sql.flavors,
            action: Action::Insert,
            what: format!(
                "flavor '{name}' (flavorid {fid}) {}",
                if keep {
                    format!("with the parent's id {id}")
                } else {
                    "with a new id".to_string()
                }
            ),
            guards,
            stmt: Stmt::new(
                if keep {
                    self.sql.insert_flavor
                } else {
                    self.sql.insert_flavor_new_id
                },
                binds,
            ),
            defines: Some(slot),
            fixes: Some(FindingRef::of(f)),
            fixed_id: keep.then_some(id),
            warning,
            az: AzEffect::None,
        });
        let owner = if keep {
            Bind::int(id)
        } else {
            Bind::NewId(slot)
        };
        let specs = self.parent.specs.get(&id).cloned().unwrap_or_default();
        for (k, v) in specs {
            self.cp.steps.push(Step {
                table: self.sql.flavor_extra_specs,
                action: Action::Insert,
                what: format!(
                    "extra spec {k}={} on new flavor '{fid}'",
                    v.as_deref().unwrap_or("NULL")
                ),
                guards: Vec::new(),
                stmt: Stmt::new(
                    self.sql.insert_flavor_extra_spec,
                    vec![
                        Bind::text(self.now),
                        owner.clone(),
                        Bind::text(&k),
                        Bind::opt_text(v),
                    ],
                ),
                defines: None,
                fixes: None,
                fixed_id: None,
                warning: None,
                az: AzEffect::None,
            });
        }
    }

    /// The parent's value of a spec and the child's flavor id, or why the finding cannot be acted on.
    fn spec_rows(&self, fid: &str, k: &str) -> Result<(Option<String>, i64), &'static str> {
        let pf = self
            .parent
            .flavors
            .get(fid)
            .ok_or("the parent's flavor was not readable")?;
        let pv = self
            .parent
            .specs
            .get(&pf.id)
            .and_then(|s| s.get(k))
            .ok_or("the parent no longer has the spec")?;
        let cid = *self
            .flavors
            .live
            .get(fid)
            .ok_or("the child's flavor was not readable")?;
        Ok((pv.clone(), cid))
    }

    fn add_spec(&mut self, f: &Finding) {
        let (Some(fid), Some(k)) = (key(f, "flavor"), key(f, "key")) else {
            return self.leave(f, "finding without flavor and key");
        };
        let (pv, cid) = match self.spec_rows(fid, k) {
            Ok(x) => x,
            Err(why) => return self.leave(f, why),
        };
        let guards = vec![
            self.flavor_guard(cid, fid),
            Guard {
                stmt: Stmt::new(
                    self.sql.lock_flavor_extra_spec,
                    vec![Bind::int(cid), Bind::text(k)],
                ),
                expect: Expect::NoRow,
                assumes: format!("flavor '{fid}' has no live '{k}' in {}", self.cell()),
            },
        ];
        self.cp.steps.push(Step {
            table: self.sql.flavor_extra_specs,
            action: Action::Insert,
            what: format!(
                "extra spec {k}={} on flavor '{fid}'",
                pv.as_deref().unwrap_or("NULL")
            ),
            guards,
            stmt: Stmt::new(
                self.sql.insert_flavor_extra_spec,
                vec![
                    Bind::text(self.now),
                    Bind::int(cid),
                    Bind::text(k),
                    Bind::opt_text(pv),
                ],
            ),
            defines: None,
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::None,
        });
    }

    fn fix_spec(&mut self, f: &Finding) {
        let (Some(fid), Some(k)) = (key(f, "flavor"), key(f, "key")) else {
            return self.leave(f, "finding without flavor and key");
        };
        let (pv, cid) = match self.spec_rows(fid, k) {
            Ok(x) => x,
            Err(why) => return self.leave(f, why),
        };
        let cv = self.flavors.specs.get(&cid).and_then(|s| s.get(k)).cloned();
        let (Some(new), Some(Some(old))) = (pv, cv) else {
            return self.leave(f, "a NULL value is not updated automatically");
        };
        if !self.fix_drift {
            let cell = self.cell().to_string();
            return self.refuse(
                Some(f),
                format!("extra spec {k} of flavor '{fid}'"),
                format!("drift: '{old}' in {cell}, '{new}' in the parent; --fix-drift updates it"),
            );
        }
        let guards = vec![
            self.flavor_guard(cid, fid),
            Guard {
                stmt: Stmt::new(
                    self.sql.lock_flavor_extra_spec,
                    vec![Bind::int(cid), Bind::text(k)],
                ),
                expect: Expect::OneRowWithValue {
                    column: 1,
                    value: old.clone(),
                },
                assumes: format!("flavor '{fid}' still has {k}='{old}' in {}", self.cell()),
            },
        ];
        self.cp.steps.push(Step {
            table: self.sql.flavor_extra_specs,
            action: Action::Update {
                old: old.clone(),
                new: new.clone(),
                row_guard: 1,
            },
            what: format!("extra spec {k} of flavor '{fid}'"),
            guards,
            stmt: Stmt::new(
                self.sql.update_flavor_extra_spec,
                vec![
                    Bind::text(&new),
                    Bind::text(self.now),
                    Bind::int(cid),
                    Bind::text(k),
                    Bind::text(&old),
                ],
            ),
            defines: None,
            fixes: Some(FindingRef::of(f)),
            fixed_id: None,
            warning: None,
            az: AzEffect::None,
        });
    }
}

/// Refuses every step that would leave a host in two availability zones in this child, as Nova does.
///
/// The check looks at the state the whole plan would produce, so the result does not depend on the
/// order of the findings: when the parent itself puts a host in two AZs, both memberships are refused.
fn refuse_az_conflicts(cp: &mut ChildPlan, data: &CellData) {
    struct ModelAgg {
        name: String,
        az: Option<String>,
        hosts: BTreeSet<String>,
        before: BTreeSet<String>,
    }
    let mut model: BTreeMap<AggId, ModelAgg> = BTreeMap::new();
    if let Ok(aggs) = v1::aggregates(data) {
        for a in aggs.live.values().flatten() {
            model.insert(
                AggId::Existing(a.id),
                ModelAgg {
                    name: a.name.clone(),
                    az: a.az().map(str::to_string),
                    hosts: a.member_hosts(),
                    before: a.member_hosts(),
                },
            );
        }
    }
    for (slot, label) in cp.new_ids.iter().enumerate() {
        model.insert(
            AggId::New(slot),
            ModelAgg {
                name: label
                    .strip_prefix("aggregates.id of '")
                    .and_then(|s| s.strip_suffix('\''))
                    .unwrap_or(label)
                    .to_string(),
                az: None,
                hosts: BTreeSet::new(),
                before: BTreeSet::new(),
            },
        );
    }
    for s in &cp.steps {
        match &s.az {
            AzEffect::HostJoins { agg, host } => {
                if let Some(m) = model.get_mut(agg) {
                    m.hosts.insert(host.clone());
                }
            }
            AzEffect::SetsAz { agg, az } => {
                if let Some(m) = model.get_mut(agg) {
                    m.az = Some(az.clone());
                }
            }
            AzEffect::None => {}
        }
    }
    let mut zones: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for m in model.values() {
        if let Some(az) = &m.az {
            for h in &m.hosts {
                zones
                    .entry(h.as_str())
                    .or_default()
                    .entry(az.as_str())
                    .or_default()
                    .push(m.name.as_str());
            }
        }
    }
    let conflict = |host: &str| -> Option<String> {
        let z = zones.get(host)?;
        if z.len() < 2 {
            return None;
        }
        let parts: Vec<String> = z
            .iter()
            .map(|(az, aggs)| format!("AZ '{az}' ({})", aggs.join(", ")))
            .collect();
        Some(format!(
            "host '{host}' would be in {} in {}; Nova forbids a host in two availability zones",
            crate::checks::join_names(parts),
            cp.cell
        ))
    };
    let mut keep = Vec::new();
    let mut refused = Vec::new();
    for s in std::mem::take(&mut cp.steps) {
        let reason = match &s.az {
            AzEffect::HostJoins { agg, host } => model
                .get(agg)
                .filter(|m| m.az.is_some())
                .and_then(|_| conflict(host)),
            AzEffect::SetsAz { agg, .. } => model
                .get(agg)
                .and_then(|m| m.before.iter().find_map(|h| conflict(h))),
            AzEffect::None => None,
        };
        match reason {
            Some(reason) => refused.push(Refusal {
                finding: s.fixes.clone(),
                what: s.what.clone(),
                reason,
            }),
            None => keep.push(s),
        }
    }
    cp.steps = keep;
    cp.refused.extend(refused);
}

/// What the snapshot shows for bytes that are not UTF-8 (e.g. in a VARBINARY column): copying
/// it would write U+FFFD where the parent has other bytes, and a re-audit would see them as equal.
const UNDECODABLE: char = '\u{FFFD}';

fn undecodable(v: &Value) -> bool {
    matches!(v, Value::Text(t) if t.contains(UNDECODABLE))
}

/// Refuses every step that would write or match a value holding U+FFFD, and the steps that hang
/// off a refused insert's new id: cellaudit copies values exactly or not at all.
fn refuse_undecodable(cp: &mut ChildPlan) {
    let mut dropped_slots: BTreeSet<usize> = BTreeSet::new();
    let mut keep = Vec::new();
    let mut refused = Vec::new();
    for s in std::mem::take(&mut cp.steps) {
        let stmts = std::iter::once(&s.stmt).chain(s.guards.iter().map(|g| &g.stmt));
        let binds: Vec<&Bind> = stmts.flat_map(|st| st.binds.iter()).collect();
        let bad_value = binds
            .iter()
            .any(|b| matches!(b, Bind::Value(v) if undecodable(v)))
            || s.guards.iter().any(|g| {
                matches!(&g.expect, Expect::OneRowWithValue { value, .. } if value.contains(UNDECODABLE))
            });
        let orphan = binds.iter().find_map(|b| match b {
            Bind::NewId(k) if dropped_slots.contains(k) => Some(*k),
            _ => None,
        });
        let reason = if bad_value {
            Some(format!(
                "a value holds bytes that are not UTF-8 (read as U+FFFD, e.g. from a VARBINARY column) or U+FFFD itself; sync copies values exactly or not at all, so copy this row by hand in {}",
                cp.cell
            ))
        } else {
            orphan.map(|k| {
                format!(
                    "it belongs to {}, which is not copied (see above)",
                    cp.new_ids.get(k).cloned().unwrap_or_default()
                )
            })
        };
        match reason {
            Some(reason) => {
                if let Some(k) = s.defines {
                    dropped_slots.insert(k);
                }
                refused.push(Refusal {
                    finding: s.fixes.clone(),
                    what: s.what.clone(),
                    reason,
                });
            }
            None => keep.push(s),
        }
    }
    cp.steps = keep;
    cp.refused.extend(refused);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_refs_match_the_finding_they_came_from_only() {
        let f = Finding::new(
            "aggregates",
            "missing_in_child",
            crate::findings::Severity::Failure,
            "child2",
            &[("aggregate", "az-west-agg")],
            "m".into(),
        );
        let r = FindingRef::of(&f);
        assert!(r.matches(&f));
        let mut g = f.clone();
        g.cell = "child3".into();
        assert!(!r.matches(&g));
        assert_eq!(
            r.text(),
            "aggregates/missing_in_child aggregate=az-west-agg"
        );
    }
}
