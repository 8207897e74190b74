//! Executes one child's plan in one transaction: re-checks, writes, reads each row back for the journal; and undoes a journal with statements built from its entries.

use super::journal::{ChildJournal, ChildStatus, Entry, EntryAction, from_json, to_json};
use super::plan::{Action, ChildPlan, Expect};
use super::sql::{self, Bind, Table, render};
use super::tx::Tx;
use crate::db::{Dialect, Row, Timeouts, Value};
use crate::dburl::DbUrl;
use std::collections::BTreeMap;

/// A hook called with a child's name.
pub type ChildHook = Box<dyn Fn(&str) + Send + Sync>;
/// A hook called with a child's name and a step's index.
pub type StepHook = Box<dyn Fn(&str, usize) + Send + Sync>;

/// Points where a test (or an embedding program) can act between the plan and its execution.
#[derive(Default)]
pub struct Hooks {
    /// Called with the child's name just before its transaction begins.
    pub before_child: Option<ChildHook>,
    /// Called with the child's name and the step's index after the step ran, before the next (or COMMIT).
    pub after_step: Option<StepHook>,
}

/// Why a child's transaction did not commit.
#[derive(Debug, Clone)]
pub enum Stop {
    /// The data changed since the plan was made; nothing was written.
    Conflict(String),
    /// The database failed (lost connection, error); the transaction did not commit.
    Failed(String),
}

impl Stop {
    pub fn message(&self) -> &str {
        match self {
            Stop::Conflict(m) | Stop::Failed(m) => m,
        }
    }
}

fn row_map(table: &Table, row: &Row) -> BTreeMap<String, serde_json::Value> {
    table
        .columns
        .iter()
        .zip(row)
        .map(|(c, v)| (c.to_string(), to_json(v)))
        .collect()
}

async fn read_row(tx: &mut Tx, table: &Table, id: i64) -> Result<Option<Row>, Stop> {
    let d = tx.dialect();
    let rows = tx
        .fetch(table.row.sql(d), &[Value::Int(id)])
        .await
        .map_err(Stop::Failed)?;
    Ok(rows.into_iter().next())
}

fn values(binds: Vec<Value>) -> Vec<Bind> {
    binds.into_iter().map(Bind::Value).collect()
}

/// Runs the steps inside `tx`; on `Err` the caller rolls back.
pub async fn run_steps(tx: &mut Tx, plan: &ChildPlan, hooks: &Hooks) -> Result<Vec<Entry>, Stop> {
    let d = tx.dialect();
    let mut ids: Vec<Option<i64>> = vec![None; plan.new_ids.len()];
    let mut entries = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let mut guard_rows: Vec<Vec<Row>> = Vec::new();
        for g in &step.guards {
            let binds = g.stmt.resolve(&ids).map_err(Stop::Failed)?;
            let rows = tx
                .fetch(g.stmt.query.sql(d), &binds)
                .await
                .map_err(Stop::Failed)?;
            let holds = match &g.expect {
                Expect::NoRow => rows.is_empty(),
                Expect::SomeRow => !rows.is_empty(),
                Expect::OneRowWithValue { column, value } => {
                    rows.len() == 1
                        && rows[0].get(*column).and_then(Value::as_text).as_deref() == Some(value)
                }
            };
            if !holds {
                let found = match rows.first() {
                    None => "nothing".to_string(),
                    Some(r) => format!(
                        "{} (first: {})",
                        if rows.len() == 1 {
                            "1 row".to_string()
                        } else {
                            format!("{} rows", rows.len())
                        },
                        r.iter()
                            .map(|v| sql::literal(d, v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(Stop::Conflict(format!(
                    "{} changed since the plan was made: it assumed {}, but `{}` found {found}",
                    plan.cell,
                    sql::comment_text(&g.assumes),
                    render(d, g.stmt.query.sql(d), &values(binds))
                )));
            }
            guard_rows.push(rows);
        }
        let binds = step.stmt.resolve(&ids).map_err(Stop::Failed)?;
        let shown = render(d, step.stmt.query.sql(d), &values(binds.clone()));
        let done = tx
            .execute(step.stmt.query.sql(d), &binds)
            .await
            .map_err(|e| Stop::Failed(format!("{shown}: {e}")))?;
        if done.rows != 1 {
            return Err(Stop::Conflict(format!(
                "{}: `{shown}` changed {} rows, 1 expected; the data changed since the plan was made",
                plan.cell, done.rows
            )));
        }
        let (id, before) = match &step.action {
            // An explicit id is what the row got; LAST_INSERT_ID() only reports generated ones.
            Action::Insert => (step.fixed_id.unwrap_or(done.last_id), None),
            Action::Update { row_guard, .. } => {
                let r = &guard_rows[*row_guard][0];
                let id = r[0]
                    .as_int()
                    .ok_or_else(|| Stop::Failed("row without id".into()))?;
                let before: BTreeMap<String, serde_json::Value> = [
                    ("value".to_string(), to_json(&r[1])),
                    ("updated_at".to_string(), to_json(&r[2])),
                ]
                .into();
                (id, Some(before))
            }
        };
        if let Some(slot) = step.defines {
            ids[slot] = Some(id);
        }
        let row = read_row(tx, step.table, id).await?.ok_or_else(|| {
            Stop::Failed(format!(
                "{}: row {id} of {} cannot be read back",
                plan.cell, step.table.name
            ))
        })?;
        entries.push(Entry {
            table: step.table.name.to_string(),
            action: match step.action {
                Action::Insert => EntryAction::Insert,
                Action::Update { .. } => EntryAction::Update,
            },
            id,
            row: row_map(step.table, &row),
            before,
            finding: step.fixes.as_ref().map(|f| f.text()),
            sql: shown,
        });
        if let Some(h) = &hooks.after_step {
            h(&plan.cell, i);
        }
    }
    Ok(entries)
}

/// Applies one child's plan in one transaction. The journal is saved with status `committing` (via
/// `save`) before COMMIT, so a crash at any point leaves a journal that says what may be in the child.
pub async fn apply_child(
    plan: &ChildPlan,
    url: &DbUrl,
    timeouts: Timeouts,
    hooks: &Hooks,
    journal: &mut ChildJournal,
    save: &mut dyn FnMut(&ChildJournal) -> Result<(), String>,
) -> Result<(), Stop> {
    if let Some(h) = &hooks.before_child {
        h(&plan.cell);
    }
    let mut tx = match Tx::begin(url, timeouts).await {
        Ok(tx) => tx,
        Err(e) => {
            // A locked SQLite file or a refused connection: say why in the output and the journal.
            let why = url.scrub(&format!("{}: cannot start the transaction: {e}", plan.cell));
            journal.status = ChildStatus::RolledBack;
            journal.message = Some(format!("{why}; nothing was changed in {}", plan.cell));
            let _ = save(journal);
            return Err(Stop::Failed(why));
        }
    };
    let entries = match run_steps(&mut tx, plan, hooks).await {
        Ok(e) => e,
        Err(stop) => {
            tx.rollback().await;
            journal.status = ChildStatus::RolledBack;
            journal.message = Some(format!(
                "{}; rolled back, nothing was changed in {}",
                url.scrub(stop.message()),
                plan.cell
            ));
            let _ = save(journal);
            return Err(stop);
        }
    };
    journal.entries = entries;
    journal.status = ChildStatus::Committing;
    if let Err(e) = save(journal) {
        tx.rollback().await;
        journal.entries.clear();
        journal.status = ChildStatus::RolledBack;
        return Err(Stop::Failed(format!(
            "{e}; rolled back {} rather than change it without a journal",
            plan.cell
        )));
    }
    match tx.commit().await {
        Ok(()) => {
            journal.status = ChildStatus::Committed;
            journal.message = None;
            save(journal).map_err(Stop::Failed)
        }
        Err(e) => {
            journal.status = ChildStatus::CommitUnknown;
            journal.message = Some(url.scrub(&format!(
                "COMMIT got no answer ({e}): the rows may or may not be in {}; `--undo` checks them",
                plan.cell
            )));
            let _ = save(journal);
            Err(Stop::Failed(journal.message.clone().unwrap_or_default()))
        }
    }
}

/// The SQL dialect a URL's database speaks.
pub fn dialect_of(url: &DbUrl) -> Dialect {
    match url {
        DbUrl::MySql(_) => Dialect::MySql,
        DbUrl::Sqlite { .. } => Dialect::Sqlite,
    }
}

/// One statement of an undo, built from one journal entry's structured fields alone (table,
/// action, id, `before`): never from text in the journal. The preview shows these, and `run`
/// executes these, so what the operator confirms is what runs.
pub struct UndoStep {
    table: &'static Table,
    id: i64,
    /// The row as the sync left it; the current row must be identical for the step to run.
    expect: BTreeMap<String, serde_json::Value>,
    /// For an update, the columns it replaced: a row holding these again was already reversed.
    before: Option<BTreeMap<String, serde_json::Value>>,
    query: &'static sql::Q,
    binds: Vec<Value>,
    /// Counts rows that still point at the row (insert of an aggregate or flavor): must be 0.
    refs: Option<&'static sql::Q>,
}

impl UndoStep {
    fn check(&self, d: Dialect) -> String {
        render(d, self.table.row.sql(d), &values(vec![Value::Int(self.id)]))
    }

    fn refs_check(&self, d: Dialect) -> Option<(String, Vec<Value>)> {
        self.refs.map(|q| {
            let binds = vec![Value::Int(self.id); sql::placeholders(q.sql(d))];
            (render(d, q.sql(d), &values(binds.clone())), binds)
        })
    }

    pub fn statement(&self, d: Dialect) -> String {
        render(d, self.query.sql(d), &values(self.binds.clone()))
    }
}

/// The statements that reverse one child's journaled writes, newest first; or every reason the
/// journal's entries cannot be reversed (a table or action sync never writes, an update without its old values).
pub fn undo_steps(child: &ChildJournal) -> Result<Vec<UndoStep>, Vec<String>> {
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    for e in child.entries.iter().rev() {
        let Some(table) = sql::table(&e.table) else {
            problems.push(format!(
                "{}: the journal names table '{}', which sync never writes",
                child.cell, e.table
            ));
            continue;
        };
        let (query, binds) = match e.action {
            EntryAction::Insert => (&table.delete, vec![Value::Int(e.id)]),
            EntryAction::Update => {
                let (Some(q), Some(b)) = (table.undo_update.as_ref(), e.before.as_ref()) else {
                    problems.push(format!(
                        "{}: {} id {}: sync never updates {} this way, or the entry lacks the old values",
                        child.cell, e.table, e.id, e.table
                    ));
                    continue;
                };
                let get = |k: &str| b.get(k).map(from_json).unwrap_or(Value::Null);
                (q, vec![get("value"), get("updated_at"), Value::Int(e.id)])
            }
        };
        if e.row.get("id") != Some(&serde_json::Value::from(e.id)) {
            problems.push(format!(
                "{}: {} entry id {} does not match the id of its row",
                child.cell, e.table, e.id
            ));
            continue;
        }
        steps.push(UndoStep {
            table,
            id: e.id,
            expect: e.row.clone(),
            before: e.before.clone().filter(|_| e.action == EntryAction::Update),
            query,
            binds,
            refs: table
                .refs
                .as_ref()
                .filter(|_| e.action == EntryAction::Insert),
        });
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(problems)
    }
}

/// The undo of one child as the operator is shown it, in the order it runs: the transaction, the
/// re-read of every row (which must equal the journal's), then newest first each reference count
/// (which must be 0) and reversing statement, and COMMIT.
pub fn undo_script(d: Dialect, steps: &[UndoStep]) -> String {
    let mut o = String::new();
    o.push_str(match d {
        Dialect::MySql => "START TRANSACTION;\n",
        Dialect::Sqlite => "BEGIN IMMEDIATE;\n",
    });
    for s in steps.iter().rev() {
        o.push_str(&format!(
            "{};  -- re-check, must find the row exactly as the sync left it\n",
            s.check(d)
        ));
    }
    for s in steps {
        if let Some((q, _)) = s.refs_check(d) {
            o.push_str(&format!("{q};  -- re-check, must count 0\n"));
        }
        o.push_str(&format!("{};\n", s.statement(d)));
    }
    o.push_str("COMMIT;\n");
    o
}

/// One child's rows as the journal has them, checked and ready to be reversed inside an open transaction.
pub struct UndoChild {
    pub cell: String,
    pub tx: Tx,
    steps: Vec<UndoStep>,
}

/// What checking a child before its undo found.
pub enum Prepared {
    /// Every row is exactly as the sync left it; the transaction is open and the rows locked.
    Ready(UndoChild),
    /// Every row is already as it was before the run (inserted rows gone, updated values back):
    /// an earlier undo committed without its answer arriving, or the run's COMMIT never landed.
    AlreadyReversed,
}

/// Opens a transaction in the child and checks, in the order [`undo_script`] shows, that every
/// journaled row is still exactly as written. Returns the problems found (each one line); nothing is changed.
pub async fn prepare_undo(
    cell: &str,
    steps: Vec<UndoStep>,
    url: &DbUrl,
    timeouts: Timeouts,
) -> Result<Prepared, Vec<String>> {
    let mut tx = Tx::begin(url, timeouts)
        .await
        .map_err(|e| vec![url.scrub(&format!("{cell}: cannot start the transaction: {e}"))])?;
    let mut problems = Vec::new();
    let mut reversed = Vec::new();
    for s in steps.iter().rev() {
        match read_row(&mut tx, s.table, s.id).await {
            Err(stop) => problems.push(url.scrub(stop.message())),
            Ok(None) => {
                let msg = format!(
                    "{cell}: {} row id {} is gone since the sync wrote it",
                    s.table.name, s.id
                );
                if s.before.is_none() {
                    reversed.push(msg);
                } else {
                    problems.push(msg);
                }
            }
            Ok(Some(row)) => {
                let now = row_map(s.table, &row);
                if now == s.expect {
                    continue;
                }
                let changed: Vec<String> = now
                    .iter()
                    .filter(|(k, v)| s.expect.get(*k) != Some(*v))
                    .map(|(k, v)| {
                        format!(
                            "{k}: {} -> {v}",
                            s.expect.get(k).cloned().unwrap_or_default()
                        )
                    })
                    .collect();
                let msg = sql::comment_text(&format!(
                    "{cell}: {} row id {} changed since the sync wrote it ({})",
                    s.table.name,
                    s.id,
                    changed.join(", ")
                ));
                let back = s.before.as_ref().is_some_and(|b| {
                    now.iter()
                        .all(|(k, v)| b.get(k).or_else(|| s.expect.get(k)) == Some(v))
                });
                if back {
                    reversed.push(msg);
                } else {
                    problems.push(msg);
                }
            }
        }
    }
    if problems.is_empty() && reversed.len() == steps.len() {
        tx.rollback().await;
        return Ok(Prepared::AlreadyReversed);
    }
    if problems.is_empty() && reversed.is_empty() {
        Ok(Prepared::Ready(UndoChild {
            cell: cell.to_string(),
            tx,
            steps,
        }))
    } else {
        // Some rows as written and some reversed: someone else changed them; a person must look.
        problems.extend(reversed);
        tx.rollback().await;
        Err(problems)
    }
}

impl UndoChild {
    /// Runs the reversing statements, newest first, and commits; returns the statements run.
    pub async fn run(mut self) -> Result<Vec<String>, String> {
        let d = self.tx.dialect();
        let mut done = Vec::new();
        let steps = std::mem::take(&mut self.steps);
        for s in &steps {
            if let Some((shown, binds)) = s.refs_check(d) {
                let q = s.refs.expect("refs_check is Some only with refs");
                // Every row the run hung on this one is gone by now; anything left was added by someone else.
                let n = self
                    .tx
                    .fetch(q.sql(d), &binds)
                    .await
                    .ok()
                    .and_then(|r| r.first().and_then(|r| r[0].as_int()));
                if n != Some(0) {
                    self.tx.rollback().await;
                    return Err(format!(
                        "{}: {} row id {} is now used by rows the sync did not write (`{shown}` found {}); undo refused, nothing changed",
                        self.cell,
                        s.table.name,
                        s.id,
                        n.map_or("nothing".to_string(), |n| n.to_string())
                    ));
                }
            }
            let shown = s.statement(d);
            match self.tx.execute(s.query.sql(d), &s.binds).await {
                Ok(r) if r.rows == 1 => done.push(shown),
                Ok(r) => {
                    self.tx.rollback().await;
                    return Err(format!(
                        "{}: `{shown}` changed {} rows of {}, 1 expected; rolled back, nothing changed",
                        self.cell, r.rows, s.table.name
                    ));
                }
                Err(e) => {
                    self.tx.rollback().await;
                    return Err(format!(
                        "{}: `{shown}`: {e}; rolled back, nothing changed",
                        self.cell
                    ));
                }
            }
        }
        self.tx
            .commit()
            .await
            .map_err(|e| format!("{}: COMMIT failed: {e}", self.cell))?;
        Ok(done)
    }

    pub async fn abandon(self) {
        self.tx.rollback().await;
    }
}
