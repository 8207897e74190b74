//! The checks: each reads the snapshots of a topology and returns findings and per-cell outcomes; none prints or writes.

mod aggregates;
pub mod brokers;
mod flavors;
mod hosts;
pub mod instances;
mod registry;
pub mod releases;
pub mod v2;
mod zones;

use crate::findings::{CheckOutcome, Finding, Outcome, Report, Severity};
use crate::queries::{self, Dataset};
use crate::snapshot::CellData;
use std::collections::{BTreeMap, BTreeSet};

/// Which parent aggregates a child must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Those with at least one member host living in the child.
    #[default]
    Members,
    /// Every parent aggregate, in every child.
    All,
}

/// One cell as the checks see it: its data, or `None` when it could not be read.
pub struct CellView<'a> {
    pub name: &'a str,
    pub data: Option<&'a CellData>,
}

/// Where each compute host lives: the children whose `services` have it as a live nova-compute.
#[derive(Debug, Default)]
pub struct Residency {
    pub cells_of: BTreeMap<String, Vec<String>>,
    /// Children whose services could not be read, so a host "in no child" may live there.
    pub unknown: Vec<String>,
}

impl Residency {
    pub fn build(children: &[CellView<'_>]) -> Residency {
        let mut r = Residency::default();
        for c in children {
            match c.data.map(crate::v1::compute_hosts) {
                Some(Ok(hosts)) => {
                    for h in hosts {
                        r.cells_of.entry(h).or_default().push(c.name.to_string());
                    }
                }
                _ => r.unknown.push(c.name.to_string()),
            }
        }
        r
    }

    pub fn lives_in(&self, host: &str, cell: &str) -> bool {
        self.cells_of
            .get(host)
            .is_some_and(|v| v.iter().any(|c| c == cell))
    }

    pub fn cells(&self, host: &str) -> &[String] {
        self.cells_of.get(host).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How sure "a host in no child" is: a warning when every child was read, else only info,
    /// with the note naming the children it may live in unseen.
    fn in_no_child(&self) -> (Severity, String) {
        if self.unknown.is_empty() {
            (Severity::Warning, String::new())
        } else {
            (
                Severity::Info,
                format!(
                    " among the readable children (unreadable: {})",
                    join_names(&self.unknown)
                ),
            )
        }
    }
}

/// Everything a cells v1 check may look at.
pub struct V1Context<'a> {
    pub parent: CellView<'a>,
    pub children: Vec<CellView<'a>>,
    pub expect: Expect,
    pub residency: Residency,
    /// What the message brokers answered; `Some` only when the opt-in brokers check runs.
    pub brokers: Option<crate::broker::Probes>,
    /// Skip flavor access rows and `is_public`, which operators may keep different in children on purpose.
    pub ignore_flavor_access: bool,
    /// A difference on a row changed this recently (either side) is reported as lagging, not drift.
    pub lag: std::time::Duration,
    /// The time `lag` counts back from, in seconds since the epoch (UTC, as Nova stores timestamps).
    pub as_of: i64,
    /// What the streaming checks found, by check name, filled before the other checks run.
    pub streamed: BTreeMap<&'static str, CheckRun>,
    /// How the instances check reads rows: ordered streams (flat memory) or unordered hashes (faster).
    pub instances_mode: instances::Mode,
    /// Where each read cell's aggregates and flavors came from, parent first (see `crate::v1_release`).
    pub sources: Vec<crate::v1_release::CellSource>,
    /// Children that read the very API database the parent reads: their aggregates and flavors are the
    /// parent's rows, so there is nothing to diff (member hosts and derived AZs still can differ).
    pub shared_api: BTreeSet<String>,
    /// The AZ of hosts in no AZ aggregate (`--default-az`, Nova's `nova`): an aggregate with it is no AZ.
    pub default_az: String,
    /// Neighbours read from `[cells] cells_config` files, by cell name, instead of the `cells` table.
    pub cells_config: BTreeMap<String, Result<Vec<(String, bool)>, String>>,
}

/// The children whose API database is the parent's (same server and database).
pub fn shared_with_parent(sources: &[crate::v1_release::CellSource]) -> BTreeSet<String> {
    let Some(pkey) = sources
        .iter()
        .find(|s| s.role == crate::findings::Role::Parent)
        .and_then(|s| s.api_key.clone())
    else {
        return BTreeSet::new();
    };
    sources
        .iter()
        .filter(|s| s.role != crate::findings::Role::Parent && s.api_key.as_deref() == Some(&pkey))
        .filter(|s| s.era != crate::v1_release::Era::MainDb)
        .map(|s| s.cell.clone())
        .collect()
}

impl V1Context<'_> {
    pub fn child_names(&self) -> BTreeSet<&str> {
        self.children.iter().map(|c| c.name).collect()
    }
}

/// What a check returns: an outcome for each cell it concerns, and its findings.
#[derive(Debug, Default, Clone)]
pub struct CheckRun {
    pub outcomes: Vec<(String, Outcome)>,
    pub findings: Vec<Finding>,
}

impl CheckRun {
    /// Adds the findings and, under the check's name, the outcome per cell to `report`.
    pub fn record_in(self, check: &'static str, report: &mut Report) {
        report.findings.extend(self.findings);
        report.checks.extend(
            self.outcomes
                .into_iter()
                .map(|(cell, outcome)| CheckOutcome {
                    check,
                    cell,
                    outcome,
                }),
        );
    }

    fn outcome(&mut self, cell: &str, o: Outcome) {
        self.outcomes.push((cell.to_string(), o));
    }

    /// Marks every cell skipped for one reason (e.g. the parent lacks a table).
    fn skip_all(ctx: &V1Context<'_>, reason: String) -> CheckRun {
        let mut run = CheckRun::default();
        run.outcome(
            ctx.parent.name,
            Outcome::Skipped {
                reason: reason.clone(),
            },
        );
        for c in &ctx.children {
            let o = if c.data.is_some() {
                Outcome::Skipped {
                    reason: reason.clone(),
                }
            } else {
                Outcome::Unavailable
            };
            run.outcome(c.name, o);
        }
        run
    }
}

#[derive(Debug)]
pub struct CheckDef {
    pub name: &'static str,
    pub about: &'static str,
    pub parent_sets: &'static [&'static Dataset],
    pub child_sets: &'static [&'static Dataset],
    pub run: fn(&V1Context<'_>) -> CheckRun,
}

const AGG_SETS: &[&Dataset] = &[
    &queries::AGGREGATES,
    &queries::AGGREGATE_HOSTS,
    &queries::AGGREGATE_METADATA,
];
const AGG_AND_SERVICES: &[&Dataset] = &[
    &queries::AGGREGATES,
    &queries::AGGREGATE_HOSTS,
    &queries::AGGREGATE_METADATA,
    &queries::COMPUTE_SERVICES,
];

const FLAVOR_SETS: &[&Dataset] = &[
    &queries::FLAVORS,
    &queries::FLAVOR_EXTRA_SPECS,
    &queries::FLAVOR_PROJECTS,
];

const AGG_AND_FLAVOR_SETS: &[&Dataset] = &[
    &queries::AGGREGATES,
    &queries::AGGREGATE_HOSTS,
    &queries::AGGREGATE_METADATA,
    &queries::FLAVORS,
    &queries::FLAVOR_EXTRA_SPECS,
    &queries::FLAVOR_PROJECTS,
];

/// Every cells v1 check, in report order.
pub const V1_CHECKS: &[CheckDef] = &[
    CheckDef {
        name: releases::CHECK,
        about: "each cell's Nova release and where it reads aggregates and flavors (main or API database); API databases needed, shared, on another release; live main-database rows the release no longer reads alone",
        parent_sets: AGG_AND_FLAVOR_SETS,
        child_sets: AGG_AND_FLAVOR_SETS,
        run: releases::releases,
    },
    CheckDef {
        name: "cell_registry",
        about: "the parent's `cells` rows name exactly the audited children, and each child registers its parent",
        parent_sets: &[&queries::CELLS],
        child_sets: &[&queries::CELLS],
        run: registry::cell_registry,
    },
    CheckDef {
        name: "aggregates",
        about: "parent aggregates exist in the children that host their members (by name); no stray or deleted ones",
        parent_sets: AGG_SETS,
        child_sets: AGG_AND_SERVICES,
        run: aggregates::aggregates,
    },
    CheckDef {
        name: "aggregate_metadata",
        about: "each child copy of an aggregate has the parent's metadata, availability_zone above all",
        parent_sets: AGG_SETS,
        child_sets: AGG_AND_SERVICES,
        run: aggregates::aggregate_metadata,
    },
    CheckDef {
        name: "aggregate_hosts",
        about: "each child copy lists the parent's members that live in that child; every member lives in a child (the one its cell path names)",
        parent_sets: AGG_SETS,
        child_sets: AGG_AND_SERVICES,
        run: aggregates::aggregate_hosts,
    },
    CheckDef {
        name: "availability_zones",
        about: "every compute host is in the same availability zone at the parent and in its own child, and in only one",
        parent_sets: AGG_SETS,
        child_sets: AGG_AND_SERVICES,
        run: zones::availability_zones,
    },
    CheckDef {
        name: "hosts",
        about: "each compute host lives in one child; instances sit on compute hosts of their own child, as the parent's cell_name says",
        parent_sets: &[&queries::COMPUTE_SERVICES, &queries::INSTANCE_HOSTS],
        child_sets: &[&queries::COMPUTE_SERVICES, &queries::INSTANCE_HOSTS],
        run: hosts::hosts,
    },
    CheckDef {
        name: "flavors",
        about: "every parent flavor is in every child with the same id, columns and extra specs; access rows warn",
        parent_sets: FLAVOR_SETS,
        child_sets: FLAVOR_SETS,
        run: flavors::flavors,
    },
    CheckDef {
        name: instances::CHECK,
        about: "the parent mirrors every child's instances (by uuid): none missing or extra, right cell_name, same state",
        parent_sets: &[],
        child_sets: &[],
        run: instances::instances,
    },
];

/// The cells' snapshot sessions, kept open for checks that stream whole tables; children in `V1Context::children` order.
#[derive(Default)]
pub struct Sessions {
    pub parent: Option<crate::db::Session>,
    pub children: Vec<Option<crate::db::Session>>,
}

/// A check's streaming phase: reads over the open sessions, which it hands back when done.
pub type StreamFn =
    for<'a> fn(&'a V1Context<'a>, &'a mut Sessions) -> futures::future::BoxFuture<'a, CheckRun>;

/// The streaming phase of a check, for the checks that have one.
pub fn streamer(name: &str) -> Option<StreamFn> {
    match name {
        instances::CHECK => Some(instances::stream),
        _ => None,
    }
}

/// Checks that run only when named (`--check NAME`) or switched on by their flag, because they
/// reach beyond the databases.
pub const OPT_IN_CHECKS: &[CheckDef] = &[CheckDef {
    name: brokers::CHECK,
    about: "(opt-in, --brokers) every message broker in the `cells` rows' transport URLs answers AMQP 0-9-1",
    parent_sets: &[&queries::CELLS_TRANSPORT],
    child_sets: &[&queries::CELLS_TRANSPORT],
    run: brokers::brokers,
}];

/// Datasets every v1 audit reads from children regardless of checks: residency needs them.
pub const V1_ALWAYS_CHILD: &[&Dataset] = &[&queries::COMPUTE_SERVICES];

pub fn find(name: &str) -> Option<&'static CheckDef> {
    V1_CHECKS
        .iter()
        .chain(OPT_IN_CHECKS)
        .find(|c| c.name == name)
}

/// Joins names for messages: `a, b and c`.
pub(crate) fn join_names<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}
