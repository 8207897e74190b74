//! The instances check: under cells v1 the parent mirrors every child's instances; streams all of them in uuid order and merge-joins them.
//!
//! Each cell's `instances` rows are read in its own task, in uuid order, inside the cell's open
//! snapshot, and a k-way merge pairs the parent's rows with the children's. Nothing is loaded
//! whole: memory is a few batches per cell whatever the deployment's size. That is the default
//! [`Mode::Stream`]; [`Mode::Hash`] (in [`hash`]) trades memory per row for skipping the server's
//! sort. Both feed the same classifier ([`Audit::group`]), so they report the same findings.
//!
//! Severities, by what the inconsistency does to users and operators:
//! - failure: an instance that runs in a child but that the API cannot see or reach: missing or
//!   soft-deleted at the top, `cell_name` NULL or naming a cell that does not hold it (every
//!   action is routed nowhere or to the wrong cell), live in two children. Nobody can manage,
//!   bill or delete it through the API, and cells v1 counts quota only at the top.
//! - warning: a phantom at the top (live there, gone or soft-deleted in its child). The API
//!   lists a server that runs nowhere and it holds quota, but nothing runs unaccounted; deleting
//!   the top row fixes it. Drift of a mirrored column is a warning too: the API shows users a
//!   stale state, host or flavor, which misleads operations until the next instance save.
//! - info: any of the above on a row changed within `--lag` on either side. Every sync
//!   (`instance_update_at_top`, `instance_destroy_at_top`, the build's own create) is an
//!   asynchronous cast, and Nova's heal task resyncs rows changed within
//!   `instance_updated_at_threshold` (3600 s), so such a difference is normally in flight.

mod hash;

use super::{CheckRun, Sessions, V1Context};
use crate::db::{Kind, RowStream, Session, Value};
use crate::findings::{Finding, Outcome, Severity};
use crate::merge::{Group, Merge, Step};
use crate::queries::INSTANCES_BY_UUID;
use std::collections::{BTreeMap, BTreeSet};

pub const CHECK: &str = "instances";

/// How the instances check reads the cells' rows (`--instances-mode`, config `instances_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// [`Mode::Hash`] while the databases' estimated instance rows fit `budget` bytes at
    /// [`HASH_BYTES_PER_ROW`] each, else [`Mode::Stream`] (`--memory-budget`, config `memory_budget`).
    Auto { budget: u64 },
    /// In uuid order, merge-joined as streams: memory stays flat whatever the table size.
    Stream,
    /// Unordered uuids with a hash of the compared columns, sorted in the program; only the rows
    /// that may differ are read again in full. Skips the server's sort, the main cost of `Stream`,
    /// for about 32 bytes of memory per instance row.
    Hash,
}

/// `--memory-budget` unless told otherwise: 512 MiB.
pub const DEFAULT_BUDGET_MIB: u64 = 512;

/// What auto mode reckons hash mode holds per instance row: the 32-byte summary (see `hash`), doubled for the
/// vectors' spare capacity and the sort.
pub const HASH_BYTES_PER_ROW: u64 = 64;

impl Default for Mode {
    fn default() -> Self {
        Mode::Auto {
            budget: DEFAULT_BUDGET_MIB * 1024 * 1024,
        }
    }
}

impl Mode {
    pub const NAMES: [&'static str; 3] = ["auto", "stream", "hash"];

    pub fn parse(name: &str) -> Option<Mode> {
        match name {
            "auto" => Some(Mode::default()),
            "stream" => Some(Mode::Stream),
            "hash" => Some(Mode::Hash),
            _ => None,
        }
    }

    /// The mode auto picks for `rows` estimated instance rows in all databases together.
    pub fn resolve(self, rows: u64) -> Mode {
        match self {
            Mode::Auto { budget } if rows.saturating_mul(HASH_BYTES_PER_ROW) <= budget => {
                Mode::Hash
            }
            Mode::Auto { .. } => Mode::Stream,
            m => m,
        }
    }
}

/// The estimated instance rows of each open session (no scan); an unknown estimate counts as unbounded.
async fn estimated_rows(sources: &mut [Session]) -> u64 {
    let mut total: u64 = 0;
    for s in sources.iter_mut() {
        let sql = match s.dialect() {
            crate::db::Dialect::MySql => {
                include_str!("../../queries/v1_instances_estimate.mysql.sql")
            }
            crate::db::Dialect::Sqlite => {
                include_str!("../../queries/v1_instances_estimate.sqlite.sql")
            }
        };
        let n = match s.fetch_all(sql).await {
            Ok(rows) => rows
                .first()
                .and_then(|r| r.first())
                .map(|v| v.as_int().unwrap_or(0).max(0) as u64),
            Err(_) => None,
        };
        total = total.saturating_add(n.unwrap_or(u64::MAX));
    }
    total
}

/// Batches in flight per cell, and the rows in flight over all cells: memory is bounded by the
/// budget, not by the number of cells (CERN ran about 70) nor by the size of any table.
const DEPTH: usize = 4;
const ROWS_IN_FLIGHT: usize = 48 * 1024;

/// Rows per batch handed from a reading task to the merge: large enough to amortise the channel,
/// small enough that `cells` streams stay within the budget.
fn batch_rows(cells: usize) -> usize {
    (ROWS_IN_FLIGHT / (cells.max(1) * DEPTH)).clamp(64, 1024)
}

// Column positions in `queries/v1_instances.*.sql`.
const UUID: usize = 0;
const NAME: usize = 1;
const DELETED: usize = 2;
const CHANGED_AT: usize = 3;
const CELL_NAME: usize = 4;

const KINDS: &[Kind] = &[
    Kind::Text,  // uuid
    Kind::Text,  // display_name
    Kind::Int,   // deleted
    Kind::Epoch, // changed_at
    Kind::Text,  // cell_name
    Kind::Text,  // host
    Kind::Text,  // node
    Kind::Text,  // vm_state
    Kind::Text,  // task_state
    Kind::Int,   // power_state
    Kind::Text,  // availability_zone
    Kind::Text,  // project_id
    Kind::Text,  // user_id
    Kind::Int,   // instance_type_id
];

/// The mirrored columns compared between a child's row and the parent's copy, by position.
const COMPARED: &[(usize, &str)] = &[
    (5, "host"),
    (6, "node"),
    (7, "vm_state"),
    (8, "task_state"),
    (9, "power_state"),
    (10, "availability_zone"),
    (11, "project_id"),
    (12, "user_id"),
    (13, "instance_type_id"),
    (NAME, "display_name"),
];

/// Reads the outcome the streaming phase left for this check.
pub fn instances(ctx: &V1Context<'_>) -> CheckRun {
    match ctx.streamed.get(CHECK) {
        Some(run) => run.clone(),
        None => CheckRun::skip_all(
            ctx,
            "the instances check streams rows over open database sessions, and none were open"
                .into(),
        ),
    }
}

/// The streaming phase: merge-joins every cell's instances over the open sessions.
pub fn stream<'a>(
    ctx: &'a V1Context<'a>,
    sessions: &'a mut Sessions,
) -> futures::future::BoxFuture<'a, CheckRun> {
    Box::pin(run(ctx, sessions))
}

/// `api!child1` → `child1`: the last segment of a cells v1 routing path.
pub fn cell_of(cell_name: &str) -> &str {
    cell_name.rsplit('!').next().unwrap_or(cell_name)
}

async fn run(ctx: &V1Context<'_>, sessions: &mut Sessions) -> CheckRun {
    let q = &INSTANCES_BY_UUID;
    let pdata = match ctx.parent.data {
        Some(d) => d,
        None => return CheckRun::skip_all(ctx, "the parent could not be read".into()),
    };
    if let Some(why) = pdata.schema.missing(q.table, q.columns) {
        return CheckRun::skip_all(ctx, format!("the parent's {why}"));
    }
    let Some(psession) = sessions.parent.take() else {
        return CheckRun::skip_all(ctx, "the parent's session was not open".into());
    };
    let mut run = CheckRun::default();
    // Source 0 is the parent; `slots[i]` is the child index of source i + 1.
    let mut sources: Vec<Session> = vec![psession];
    let mut slots: Vec<usize> = Vec::new();
    let mut unaudited: BTreeSet<String> = BTreeSet::new();
    for (i, c) in ctx.children.iter().enumerate() {
        let Some(data) = c.data else {
            run.outcome(c.name, Outcome::Unavailable);
            unaudited.insert(c.name.to_string());
            continue;
        };
        if let Some(why) = data.schema.missing(q.table, q.columns) {
            run.outcome(c.name, Outcome::Skipped { reason: why });
            unaudited.insert(c.name.to_string());
            continue;
        }
        match sessions.children.get_mut(i).and_then(Option::take) {
            Some(s) => {
                sources.push(s);
                slots.push(i);
            }
            None => {
                run.outcome(
                    c.name,
                    Outcome::Skipped {
                        reason: "its session was not open".into(),
                    },
                );
                unaudited.insert(c.name.to_string());
            }
        }
    }
    let names: Vec<&str> = std::iter::once(ctx.parent.name)
        .chain(slots.iter().map(|i| ctx.children[*i].name))
        .collect();
    let mut audit = Audit {
        parent: ctx.parent.name,
        names: &names,
        known: ctx.child_names(),
        unaudited,
        now: ctx.as_of,
        lag: ctx.lag.as_secs() as i64,
        findings: Vec::new(),
    };

    let mode = match ctx.instances_mode {
        auto @ Mode::Auto { .. } => auto.resolve(estimated_rows(&mut sources).await),
        m => m,
    };
    let (failed, back) = match mode {
        Mode::Auto { .. } | Mode::Stream => {
            let batch = batch_rows(1 + ctx.children.len());
            merge_streams(&mut audit, sources, batch).await
        }
        Mode::Hash => hash::audit(&mut audit, sources).await,
    };
    // Give every session back to the engine; a stream abandoned midway closes its connection.
    for (i, back) in back.into_iter().enumerate() {
        if i == 0 {
            sessions.parent = back;
        } else if let Some(slot) = sessions.children.get_mut(slots[i - 1]) {
            *slot = back;
        }
    }

    if let Some(error) = failed.get(&0) {
        let mut run = CheckRun::default();
        run.outcome(
            ctx.parent.name,
            Outcome::Skipped {
                reason: format!("error: {error}"),
            },
        );
        for c in &ctx.children {
            run.outcome(
                c.name,
                Outcome::Skipped {
                    reason: "the parent's instances could not be read".into(),
                },
            );
        }
        run.findings.push(stream_error(ctx.parent.name, error));
        return run;
    }
    let mut findings = audit.findings;
    // A failed child's findings are dropped whole: its cell reports the error, not a partial result.
    findings.retain(|f| !failed.keys().any(|s| names[*s] == f.cell));
    run.outcome(ctx.parent.name, Outcome::Ran);
    for (source, name) in names.iter().enumerate().skip(1) {
        match failed.get(&source) {
            Some(error) => {
                run.outcome(
                    name,
                    Outcome::Skipped {
                        reason: format!("error: {error}"),
                    },
                );
                findings.push(stream_error(name, error));
            }
            None => run.outcome(name, Outcome::Ran),
        }
    }
    run.findings = findings;
    run
}

/// Source index → why it failed; a failed parent (source 0) voids the whole comparison.
type Failures = BTreeMap<usize, String>;

/// Stream mode: every source in uuid order, k-way merged group by group.
/// Returns the failures and each source's session (`None` where its connection had to close).
async fn merge_streams(
    audit: &mut Audit<'_>,
    sources: Vec<Session>,
    batch: usize,
) -> (Failures, Vec<Option<Session>>) {
    let streams: Vec<RowStream> = sources
        .into_iter()
        .map(|s| {
            let sql = INSTANCES_BY_UUID.sql(s.dialect());
            s.stream(sql, KINDS, batch, DEPTH)
        })
        .collect();
    let mut merge = Merge::new(streams, UUID);
    let mut failed = Failures::new();
    while let Some(step) = merge.next().await {
        match step {
            Step::Group(g) => audit.group(&g),
            Step::Failed { source: 0, error } => {
                failed.insert(0, error);
                break;
            }
            Step::Failed { source, error } => {
                audit.unaudited.insert(audit.names[source].to_string());
                failed.insert(source, error);
            }
        }
    }
    let mut back = Vec::new();
    for s in merge.into_sources() {
        back.push(s.finish().await);
    }
    (failed, back)
}

fn stream_error(cell: &str, error: &str) -> Finding {
    Finding::new(
        CHECK,
        "instances_unreadable",
        Severity::Failure,
        cell,
        &[("cell", cell)],
        format!("the instances of '{cell}' could not be compared: {error}"),
    )
    .impact("this cell's instances were not audited; any drift there is unknown")
}

/// What the merge has learnt so far, and the findings it produced.
struct Audit<'a> {
    parent: &'a str,
    /// Source index → cell name (0 is the parent).
    names: &'a [&'a str],
    /// Every configured child, audited or not.
    known: BTreeSet<&'a str>,
    /// Configured children whose instances are unknown (unreadable, skipped, or failed midway).
    unaudited: BTreeSet<String>,
    now: i64,
    lag: i64,
    findings: Vec<Finding>,
}

/// One problem before the lag rule decides its severity.
struct Problem {
    kind: &'static str,
    severity: Severity,
    cell: String,
    message: String,
    impact: String,
    values: Option<(serde_json::Value, serde_json::Value)>,
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(s) => format!("'{s}'"),
    }
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::Text(s) => s.as_str().into(),
    }
}

/// One row of a group as [`Audit::triage`] sees it: enough to tell whether anything is wrong,
/// not to say what.
#[derive(Debug, Clone, Copy)]
struct Side<'r> {
    source: usize,
    deleted: bool,
    cell_name: Option<&'r str>,
}

impl<'r> Side<'r> {
    fn of(source: usize, row: &'r crate::db::Row) -> Side<'r> {
        Side {
            source,
            deleted: row[DELETED].truthy(),
            cell_name: text(&row[CELL_NAME]),
        }
    }
}

impl Audit<'_> {
    /// Whether [`Audit::group`] can report anything for a group with these rows: `false` only when
    /// it certainly reports nothing. `same(child)` says whether that child row's compared columns
    /// equal the parent's. Hash mode re-reads in full only the groups this lets through, so it
    /// must follow `group`'s branches exactly; stream mode runs it too, so the exact-findings
    /// tests of both modes exercise it.
    fn triage(&self, parent: Option<Side>, kids: &[Side], same: impl Fn(&Side) -> bool) -> bool {
        let mut live = kids.iter().filter(|k| !k.deleted);
        match (live.next(), live.next()) {
            (Some(_), Some(_)) => true,
            (Some(child), None) => match parent {
                Some(p) if !p.deleted => {
                    p.cell_name.map(cell_of) != Some(self.names[child.source]) || !same(child)
                }
                _ => true,
            },
            (None, _) => match parent {
                Some(p) if !p.deleted => {
                    !kids.is_empty()
                        || p.cell_name
                            .map(cell_of)
                            .is_some_and(|c| !self.unaudited.contains(c))
                }
                _ => false,
            },
        }
    }

    /// A live parent row and one live child row that agree: almost every group at scale.
    /// Checked without allocating, since the rest of `group` formats messages up front.
    fn healthy(&self, g: &Group) -> bool {
        let [(0, p), (s, c)] = g.rows.as_slice() else {
            return false;
        };
        !p[DELETED].truthy()
            && !c[DELETED].truthy()
            && text(&p[CELL_NAME]).is_some_and(|n| cell_of(n) == self.names[*s])
            && COMPARED.iter().all(|(i, _)| p[*i] == c[*i])
    }

    fn group(&mut self, g: &Group) {
        if self.healthy(g) {
            return;
        }
        let parent = g.from_source(0);
        let kid_sides: Vec<Side> = g
            .rows
            .iter()
            .filter(|(s, _)| *s != 0)
            .map(|(s, r)| Side::of(*s, r))
            .collect();
        let same = |k: &Side| {
            let (Some(p), Some(c)) = (parent, g.from_source(k.source)) else {
                return false;
            };
            COMPARED.iter().all(|(i, _)| p[*i] == c[*i])
        };
        if !self.triage(parent.map(|p| Side::of(0, p)), &kid_sides, same) {
            return;
        }
        let kids: Vec<(&str, &crate::db::Row)> = g
            .rows
            .iter()
            .filter(|(s, _)| *s != 0)
            .map(|(s, r)| (self.names[*s], r))
            .collect();
        let live: Vec<(&str, &crate::db::Row)> = kids
            .iter()
            .copied()
            .filter(|(_, r)| !r[DELETED].truthy())
            .collect();
        let uuid = &g.key;
        let name = live
            .first()
            .map(|(_, r)| r)
            .or(parent.as_ref())
            .or(kids.first().map(|(_, r)| r))
            .and_then(|r| text(&r[NAME]))
            .unwrap_or("");
        let what = format!("instance '{name}' ({uuid})");
        let mut problems = Vec::new();

        if live.len() > 1 {
            let cells: Vec<&str> = live.iter().map(|(c, _)| *c).collect();
            problems.push(Problem {
                kind: "instance_in_multiple_cells",
                severity: Severity::Failure,
                cell: self.parent.to_string(),
                message: format!("{what} is live in {}", super::join_names(&cells)),
                impact: "one instance cannot run in two cells: the parent mirrors whichever saved last, and actions reach only the cell its cell_name names".into(),
                values: None,
            });
        } else if let Some((cell, crow)) = live.first().copied() {
            match parent {
                None => problems.push(Problem {
                    kind: "instance_missing_at_top",
                    severity: Severity::Failure,
                    cell: cell.to_string(),
                    message: format!("{what} is live in {cell} but the parent has no copy"),
                    impact: "the API cannot list, manage or delete it, and the quota it uses is not counted at the top, where cells v1 enforces quotas".into(),
                    values: None,
                }),
                Some(prow) if prow[DELETED].truthy() => problems.push(Problem {
                    kind: "instance_deleted_at_top",
                    severity: Severity::Failure,
                    cell: cell.to_string(),
                    message: format!("{what} is live in {cell} but soft-deleted at the parent"),
                    impact: "it still runs and uses resources in the child, but the API shows it as deleted: nobody can manage or delete it, and its quota was released".into(),
                    values: None,
                }),
                Some(prow) => {
                    self.check_cell_name(&what, cell, prow, &mut problems);
                    self.check_drift(&what, cell, prow, crow, &mut problems);
                }
            }
        } else if let Some(prow) = parent.filter(|p| !p[DELETED].truthy()) {
            let named = text(&prow[CELL_NAME]).map(cell_of);
            match (named, kids.first()) {
                // A soft-deleted copy in a child: the destroy did not reach the top.
                (_, Some((cell, _))) => problems.push(Problem {
                    kind: "instance_deleted_in_child",
                    severity: Severity::Warning,
                    cell: cell.to_string(),
                    message: format!("{what} is soft-deleted in {cell} but still live at the parent"),
                    impact: "the API lists a server that no longer runs; it holds quota until the parent's row is deleted".into(),
                    values: None,
                }),
                // Never scheduled to a cell (still building, or cell scheduling failed): Nova keeps
                // such instances at the top only and deletes them there.
                (None, None) => {}
                // The child it names could not be read: it may well be there.
                (Some(c), None) if self.unaudited.contains(c) => {}
                (Some(c), None) => {
                    let also = if self.unaudited.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (not audited: {})",
                            super::join_names(self.unaudited.iter())
                        )
                    };
                    let where_ = if self.known.contains(c) {
                        format!("its cell_name names {c}, which has no row for it, and no other child has it{also}")
                    } else {
                        format!("its cell_name {} names no configured child, and no child has it{also}", shown(&prow[CELL_NAME]))
                    };
                    problems.push(Problem {
                        kind: "instance_ghost_at_top",
                        severity: Severity::Warning,
                        cell: self.parent.to_string(),
                        message: format!("{what} is live at the parent but in no child: {where_}"),
                        impact: "the API lists a server that runs nowhere: every action on it fails, and it holds quota until the parent's row is deleted".into(),
                        values: None,
                    });
                }
            }
        }

        if problems.is_empty() {
            return;
        }
        // The most recent change on either side decides whether the difference may be in flight.
        let changed = g
            .rows
            .iter()
            .filter_map(|(_, r)| r[CHANGED_AT].as_int())
            .max();
        let lagging = changed.filter(|t| self.lag > 0 && self.now.saturating_sub(*t) < self.lag);
        for p in problems {
            let mut f = match lagging {
                Some(t) if p.kind != "instance_in_multiple_cells" => Finding::new(
                    CHECK,
                    "instance_lagging",
                    Severity::Info,
                    &p.cell,
                    &[("instance", uuid)],
                    format!(
                        "{} — but the instance changed {}s ago, within --lag {}s, so Nova may still be syncing it",
                        p.message,
                        (self.now - t).max(0),
                        self.lag
                    ),
                )
                .impact(format!("none yet; if it persists past --lag it is {} ({})", p.kind, p.severity.as_str())),
                _ => Finding::new(CHECK, p.kind, p.severity, &p.cell, &[("instance", uuid)], p.message)
                    .impact(p.impact),
            };
            if let Some((pv, cv)) = p.values {
                f = f.values(pv, cv);
            }
            self.findings.push(f);
        }
    }

    fn check_cell_name(
        &self,
        what: &str,
        cell: &str,
        prow: &crate::db::Row,
        problems: &mut Vec<Problem>,
    ) {
        let raw = &prow[CELL_NAME];
        let problem = match text(raw).map(cell_of) {
            Some(c) if c == cell => return,
            None => (
                "instance_cell_name_missing",
                format!("{what} lives in {cell} but the parent's copy has no cell_name"),
                "the API cannot route actions to its cell: they fail as if it were never scheduled, and a delete is broadcast to every cell".to_string(),
            ),
            Some(c) if self.known.contains(c) => (
                "instance_wrong_cell",
                format!("{what} lives in {cell} but the parent's copy has cell_name {}, naming {c}", shown(raw)),
                format!("every API action on it is sent to {c}, which does not hold it, so it fails"),
            ),
            Some(_) => (
                "instance_unknown_cell",
                format!("{what} lives in {cell} but the parent's copy has cell_name {}, which names no configured child", shown(raw)),
                "every API action on it is sent to a cell that does not hold it, so it fails".to_string(),
            ),
        };
        problems.push(Problem {
            kind: problem.0,
            severity: Severity::Failure,
            cell: cell.to_string(),
            message: problem.1,
            impact: problem.2,
            values: Some((json(raw), serde_json::Value::String(format!("api!{cell}")))),
        });
    }

    fn check_drift(
        &self,
        what: &str,
        cell: &str,
        prow: &crate::db::Row,
        crow: &crate::db::Row,
        problems: &mut Vec<Problem>,
    ) {
        let differs: Vec<&(usize, &str)> = COMPARED
            .iter()
            .filter(|(i, _)| prow[*i] != crow[*i])
            .collect();
        if differs.is_empty() {
            return;
        }
        let parts: Vec<String> = differs
            .iter()
            .map(|(i, col)| {
                format!(
                    "{col} {} at the parent, {} in {cell}",
                    shown(&prow[*i]),
                    shown(&crow[*i])
                )
            })
            .collect();
        let side = |r: &crate::db::Row| -> serde_json::Value {
            differs
                .iter()
                .map(|(i, col)| (col.to_string(), json(&r[*i])))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let cols: Vec<&str> = differs.iter().map(|(_, c)| *c).collect();
        problems.push(Problem {
            kind: "instance_drift",
            severity: Severity::Warning,
            cell: cell.to_string(),
            message: format!("{what} differs between the parent and {cell}: {}", parts.join("; ")),
            impact: format!(
                "the API shows the parent's stale {}; host-based operations and quota or billing by flavor read the wrong value",
                super::join_names(&cols)
            ),
            values: Some((side(prow), side(crow))),
        });
    }
}

#[cfg(test)]
mod mode_tests {
    use super::*;

    #[test]
    fn auto_hashes_what_fits_the_budget_and_streams_the_rest() {
        let auto = Mode::Auto { budget: 64 * 1000 };
        assert_eq!(auto.resolve(1000), Mode::Hash);
        assert_eq!(auto.resolve(1001), Mode::Stream);
        // An unknown estimate counts as unbounded: stream, whose memory stays flat.
        assert_eq!(auto.resolve(u64::MAX), Mode::Stream);
        assert_eq!(Mode::Stream.resolve(1), Mode::Stream);
        assert_eq!(Mode::Hash.resolve(u64::MAX), Mode::Hash);
        assert_eq!(Mode::parse("auto"), Some(Mode::default()));
    }
}
