//! The cells v2 checks: each compares the API DB's mappings and aggregates with the cells' services, nodes and instances.

mod aggregates;
mod cells;
pub mod computes;
mod hosts;
mod instances;
mod legacy;
mod placement;
mod specs;

use super::{CellView, CheckRun};
use crate::checks::ids::Check;
use crate::findings::Outcome;
use crate::queries::{Dataset, v2 as q};
use crate::snapshot::CellData;

/// One cell of `cell_mappings` as the checks see it.
pub struct V2Cell<'a> {
    /// The mapping's name, or its uuid when it has none.
    pub name: &'a str,
    pub uuid: &'a str,
    pub cell0: bool,
    pub disabled: bool,
    /// Chosen for this run (`--cell` narrows); cells not chosen are neither read nor reported on.
    pub audited: bool,
    /// `None` when not audited or unreadable: nothing may be concluded from its absence.
    pub data: Option<&'a CellData>,
    /// The database it was read from (server and name, no credentials), when its URL parsed.
    pub database: Option<String>,
}

/// Everything a cells v2 check may look at.
pub struct V2Context<'a> {
    pub api: CellView<'a>,
    /// Every cell of `cell_mappings`, in its order.
    pub cells: Vec<V2Cell<'a>>,
    /// The AZ of hosts in no AZ aggregate (`[DEFAULT] default_availability_zone`).
    pub default_az: &'a str,
    /// `--lag` in seconds: changes this recent are in flight, not drift.
    pub lag: i64,
    /// Epoch seconds `lag` counts back from.
    pub now: i64,
    /// `upgrade-check --target-release`: the release being upgraded to.
    pub target: Option<crate::release::Release>,
}

impl<'a> V2Context<'a> {
    /// Whether a change at `at` (epoch seconds) is within `--lag` of now; unknown times are not recent.
    pub fn recent(&self, at: Option<i64>) -> bool {
        at.is_some_and(|t| self.now - t <= self.lag)
    }

    pub fn cell(&self, uuid: &str) -> Option<&V2Cell<'a>> {
        self.cells.iter().find(|c| c.uuid == uuid)
    }

    /// How findings name the cell with this uuid.
    pub fn cell_name(&'a self, uuid: &'a str) -> &'a str {
        self.cell(uuid).map(|c| c.name).unwrap_or(uuid)
    }

    /// Cells whose data is not in hand (not chosen, or unreadable): "in no cell" cannot be concluded.
    pub fn unknown(&self) -> Vec<&str> {
        self.cells
            .iter()
            .filter(|c| c.data.is_none())
            .map(|c| c.name)
            .collect()
    }

    /// Whether two cells were read from one database (two cell mappings naming it): their rows are the same rows.
    pub fn same_database(&self, a: &str, b: &str) -> bool {
        let db = |n: &str| {
            self.cells
                .iter()
                .find(|c| c.name == n)
                .and_then(|c| c.database.as_deref())
        };
        a == b || matches!((db(a), db(b)), (Some(x), Some(y)) if x == y)
    }

    /// `names` with every cell that shares a database with an earlier one left out.
    pub fn distinct_databases<'n>(&self, names: &[&'n str]) -> Vec<&'n str> {
        let mut out: Vec<&'n str> = Vec::new();
        for n in names {
            if !out.iter().any(|o| self.same_database(o, n)) {
                out.push(n);
            }
        }
        out
    }

    /// Every audited cell whose data is in hand, once per database: a cell mapped onto the database of an earlier
    /// cell holds the same rows, which are judged under the first name only (cell_mappings reports the sharing).
    pub fn readable(&self) -> impl Iterator<Item = (&V2Cell<'a>, &'a CellData)> {
        self.cells.iter().enumerate().filter_map(|(i, c)| {
            let shared = c.database.is_some()
                && self.cells[..i]
                    .iter()
                    .any(|e| e.audited && e.data.is_some() && e.database == c.database);
            c.data.filter(|_| c.audited && !shared).map(|d| (c, d))
        })
    }

    pub fn audited(&self) -> impl Iterator<Item = &V2Cell<'a>> {
        self.cells.iter().filter(|c| c.audited)
    }

    /// `read` applied to the API DB's data; where it cannot be, the run that skips every cell, saying why.
    fn api_read<T>(
        &self,
        read: impl FnOnce(&'a CellData) -> Result<T, String>,
    ) -> Result<T, CheckRun> {
        match self.api.data.map(read) {
            Some(Ok(v)) => Ok(v),
            Some(Err(reason)) => Err(CheckRun::v2_skip_all(self, format!("API DB: {reason}"))),
            None => Err(CheckRun::v2_skip_all(self, "API DB unreadable".into())),
        }
    }
}

impl CheckRun {
    /// Outcomes of a v2 check whose API data was read: the API ran, each audited cell ran unless
    /// `probe` says its data is missing (skipped) or the cell was unreadable.
    fn v2_outcomes(
        ctx: &V2Context<'_>,
        probe: impl Fn(&CellData) -> Result<(), String>,
    ) -> CheckRun {
        let mut run = CheckRun::default();
        run.outcome(ctx.api.name, Outcome::Ran);
        for c in ctx.audited() {
            let o = match c.data.map(&probe) {
                None => Outcome::Unavailable,
                Some(Err(reason)) => Outcome::Skipped { reason },
                Some(Ok(())) => Outcome::Ran,
            };
            run.outcome(c.name, o);
        }
        run
    }

    /// Every audited cell and the API skipped for one reason (the API lacks a table).
    pub(crate) fn v2_skip_all(ctx: &V2Context<'_>, reason: String) -> CheckRun {
        let mut run = CheckRun::default();
        run.outcome(
            ctx.api.name,
            Outcome::Skipped {
                reason: reason.clone(),
            },
        );
        for c in ctx.audited() {
            let o = match c.data {
                Some(_) => Outcome::Skipped {
                    reason: reason.clone(),
                },
                None => Outcome::Unavailable,
            };
            run.outcome(c.name, o);
        }
        run
    }
}

#[derive(Debug)]
pub struct V2CheckDef {
    pub name: Check,
    /// The box title `cellaudit upgrade-check` prints, when the check is part of it.
    pub upgrade_title: Option<&'static str>,
    pub about: &'static str,
    pub api_sets: &'static [&'static Dataset],
    pub cell_sets: &'static [&'static Dataset],
    pub run: fn(&V2Context<'_>) -> CheckRun,
}

const API_AGGS: &[&Dataset] = &[
    &q::API_AGGREGATES,
    &q::API_AGGREGATE_HOSTS,
    &q::API_AGGREGATE_METADATA,
    &q::HOST_MAPPINGS,
];
const CELL_HOSTS: &[&Dataset] = &[&q::COMPUTE_SERVICES, &q::COMPUTE_NODES];

/// Every cells v2 check, in report order.
pub const V2_CHECKS: &[V2CheckDef] = &[
    V2CheckDef {
        name: Check::CellMappings,
        upgrade_title: Some("Cell mappings"),
        about: "cell_mappings has cell0 (by its uuid) and every cell's database is readable; disabled cells are noted",
        api_sets: &[&q::CELL_MAPPINGS],
        cell_sets: &[],
        run: cells::cell_mappings,
    },
    V2CheckDef {
        name: Check::HostMappings,
        upgrade_title: Some("Host mappings"),
        about: "every compute node and nova-compute service has a host mapping to the cell it lives in; no mapping names a host that is gone",
        api_sets: &[&q::HOST_MAPPINGS],
        cell_sets: CELL_HOSTS,
        run: hosts::host_mappings,
    },
    V2CheckDef {
        name: Check::ApiAggregates,
        upgrade_title: Some("Aggregates (API DB)"),
        about: "API DB aggregate members are compute hosts of some cell, named by service host; no host is in two AZs",
        api_sets: API_AGGS,
        cell_sets: CELL_HOSTS,
        run: aggregates::api_aggregates,
    },
    V2CheckDef {
        name: Check::InstanceMappings,
        upgrade_title: Some("Instance mappings"),
        about: "every instance has a mapping to the one cell it lives in; no orphan NULL-cell mappings or leftover build requests",
        api_sets: &[&q::INSTANCE_MAPPINGS, &q::BUILD_REQUESTS],
        cell_sets: &[&q::INSTANCES, &q::SHADOW_INSTANCES],
        run: instances::instance_mappings,
    },
    V2CheckDef {
        name: Check::InstanceHosts,
        upgrade_title: None,
        about: "instances sit on compute hosts of their own cell, in the AZ their request spec pinned (if any)",
        api_sets: &[
            &q::API_AGGREGATES,
            &q::API_AGGREGATE_HOSTS,
            &q::API_AGGREGATE_METADATA,
            &q::HOST_MAPPINGS,
            &q::REQUEST_SPECS,
        ],
        cell_sets: &[&q::INSTANCES, &q::COMPUTE_SERVICES, &q::COMPUTE_NODES],
        run: placement::instance_hosts,
    },
    V2CheckDef {
        name: Check::RequestSpecs,
        upgrade_title: Some("Request Spec Migration"),
        about: "every live instance has a request spec; no spec outlives its instance; no spec pins an AZ without hosts",
        api_sets: &[
            &q::REQUEST_SPECS,
            &q::API_AGGREGATES,
            &q::API_AGGREGATE_HOSTS,
            &q::API_AGGREGATE_METADATA,
            &q::INSTANCE_MAPPINGS,
            &q::BUILD_REQUESTS,
        ],
        cell_sets: &[&q::INSTANCES],
        run: specs::request_specs,
    },
    V2CheckDef {
        name: Check::LegacyTables,
        upgrade_title: Some("Legacy cell tables"),
        about: "no live rows in a cell DB's legacy aggregates, instance_types or key_pairs tables (the API DB owns them)",
        api_sets: API_AGGS,
        cell_sets: &[
            &q::LEGACY_AGGREGATES,
            &q::LEGACY_FLAVORS,
            &q::LEGACY_KEY_PAIRS,
        ],
        run: legacy::legacy_tables,
    },
];

/// Checks run only when asked for (by name, or `upgrade-check --target-release`).
pub const V2_OPT_IN: &[V2CheckDef] = &[V2CheckDef {
    name: computes::CHECK,
    upgrade_title: Some("Older than N-1 computes"),
    about: "(upgrade-check --target-release) no live nova-compute is older than the oldest release the target supports",
    api_sets: &[],
    cell_sets: CELL_HOSTS,
    run: computes::old_computes,
}];

pub fn find(name: &str) -> Option<&'static V2CheckDef> {
    let check = Check::from_name(name)?;
    V2_CHECKS.iter().chain(V2_OPT_IN).find(|c| c.name == check)
}
