//! Executes one child's plan in one transaction: re-checks, writes, reads each row back for the journal; and undoes a journal.

use super::journal::{ChildJournal, ChildStatus, Entry, EntryAction, from_json, to_json};
use super::plan::{Action, ChildPlan, Expect, Step};
use super::sql::{self, Bind, Table, render};
use super::tx::Tx;
use crate::db::{Row, Timeouts, Value};
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
                        r.iter().map(sql::literal).collect::<Vec<_>>().join(", ")
                    ),
                };
                return Err(Stop::Conflict(format!(
                    "{} changed since the plan was made: it assumed {}, but `{}` found {found}",
                    plan.cell,
                    g.assumes,
                    render(g.stmt.query.sql(d), &values(binds))
                )));
            }
            guard_rows.push(rows);
        }
        let binds = step.stmt.resolve(&ids).map_err(Stop::Failed)?;
        let shown = render(step.stmt.query.sql(d), &values(binds.clone()));
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
            undo_sql: undo_stmt(step, id, before.as_ref()).render(d),
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

/// The statement that reverses one journaled write.
struct Undo {
    query: &'static sql::Q,
    binds: Vec<Value>,
}

impl Undo {
    fn render(&self, d: crate::db::Dialect) -> String {
        render(self.query.sql(d), &values(self.binds.clone()))
    }
}

fn undo_for(
    table: &'static Table,
    action: EntryAction,
    id: i64,
    before: Option<&BTreeMap<String, serde_json::Value>>,
) -> Result<Undo, String> {
    match action {
        EntryAction::Insert => Ok(Undo {
            query: &table.delete,
            binds: vec![Value::Int(id)],
        }),
        EntryAction::Update if table.undo_update.is_some() => {
            let b = before.ok_or("an update without its old values")?;
            let get = |k: &str| b.get(k).map(from_json).unwrap_or(Value::Null);
            Ok(Undo {
                query: table.undo_update.as_ref().expect("checked above"),
                binds: vec![get("value"), get("updated_at"), Value::Int(id)],
            })
        }
        EntryAction::Update => Err(format!("sync never updates {}", table.name)),
    }
}

fn undo_stmt(step: &Step, id: i64, before: Option<&BTreeMap<String, serde_json::Value>>) -> Undo {
    let action = match step.action {
        Action::Insert => EntryAction::Insert,
        Action::Update { .. } => EntryAction::Update,
    };
    undo_for(step.table, action, id, before).unwrap_or(Undo {
        query: &step.table.delete,
        binds: vec![Value::Int(id)],
    })
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
    let mut tx = Tx::begin(url, timeouts).await.map_err(|e| {
        Stop::Failed(url.scrub(&format!("{}: cannot start the transaction: {e}", plan.cell)))
    })?;
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

/// Table, reversing statement, and the count of other rows that must not point at the row (query, id).
type PreparedUndo = (String, Undo, Option<(&'static sql::Q, i64)>);

/// One child's rows as the journal has them, checked and ready to be reversed inside an open transaction.
pub struct UndoChild {
    pub cell: String,
    pub tx: Tx,
    undos: Vec<PreparedUndo>,
}

/// Opens a transaction in the child and checks that every journaled row is still exactly as written.
/// Returns the problems found (each one line); nothing is changed.
pub async fn prepare_undo(
    child: &ChildJournal,
    url: &DbUrl,
    timeouts: Timeouts,
) -> Result<UndoChild, Vec<String>> {
    let mut tx = Tx::begin(url, timeouts).await.map_err(|e| {
        vec![url.scrub(&format!(
            "{}: cannot start the transaction: {e}",
            child.cell
        ))]
    })?;
    let mut problems = Vec::new();
    let mut undos = Vec::new();
    for e in &child.entries {
        let Some(table) = sql::table(&e.table) else {
            problems.push(format!(
                "{}: the journal names table '{}', which sync never writes",
                child.cell, e.table
            ));
            continue;
        };
        let undo = match undo_for(table, e.action, e.id, e.before.as_ref()) {
            Ok(u) => u,
            Err(why) => {
                problems.push(format!("{}: {} id {}: {why}", child.cell, e.table, e.id));
                continue;
            }
        };
        match read_row(&mut tx, table, e.id).await {
            Err(stop) => problems.push(url.scrub(stop.message())),
            Ok(None) => problems.push(format!(
                "{}: {} row id {} is gone since the sync wrote it",
                child.cell, e.table, e.id
            )),
            Ok(Some(row)) => {
                let now = row_map(table, &row);
                if now != e.row {
                    let changed: Vec<String> = now
                        .iter()
                        .filter(|(k, v)| e.row.get(*k) != Some(*v))
                        .map(|(k, v)| {
                            format!("{k}: {} -> {v}", e.row.get(k).cloned().unwrap_or_default())
                        })
                        .collect();
                    problems.push(format!(
                        "{}: {} row id {} changed since the sync wrote it ({})",
                        child.cell,
                        e.table,
                        e.id,
                        changed.join(", ")
                    ));
                }
            }
        }
        let refs = table
            .refs
            .as_ref()
            .filter(|_| e.action == EntryAction::Insert)
            .map(|q| (q, e.id));
        undos.push((e.table.clone(), undo, refs));
    }
    if problems.is_empty() {
        Ok(UndoChild {
            cell: child.cell.clone(),
            tx,
            undos,
        })
    } else {
        tx.rollback().await;
        Err(problems)
    }
}

impl UndoChild {
    /// Reverses the journaled writes, newest first, and commits; returns the statements run.
    pub async fn run(mut self) -> Result<Vec<String>, String> {
        let d = self.tx.dialect();
        let mut done = Vec::new();
        let undos = std::mem::take(&mut self.undos);
        for (table, undo, refs) in undos.into_iter().rev() {
            if let Some((q, id)) = refs {
                // Every row the run hung on this one is gone by now; anything left was added by someone else.
                let binds = vec![Value::Int(id); sql::placeholders(q.sql(d))];
                let n = self
                    .tx
                    .fetch(q.sql(d), &binds)
                    .await
                    .ok()
                    .and_then(|r| r.first().and_then(|r| r[0].as_int()));
                if n != Some(0) {
                    self.tx.rollback().await;
                    return Err(format!(
                        "{}: {table} row id {id} is now used by rows the sync did not write; undo refused, nothing changed",
                        self.cell
                    ));
                }
            }
            let shown = undo.render(d);
            match self.tx.execute(undo.query.sql(d), &undo.binds).await {
                Ok(r) if r.rows == 1 => done.push(shown),
                Ok(r) => {
                    self.tx.rollback().await;
                    return Err(format!(
                        "{}: `{shown}` changed {} rows of {table}, 1 expected; rolled back",
                        self.cell, r.rows
                    ));
                }
                Err(e) => {
                    self.tx.rollback().await;
                    return Err(format!("{}: `{shown}`: {e}; rolled back", self.cell));
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
