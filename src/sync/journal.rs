//! The journal of an applied sync run: every row written, child by child, with the SQL that undoes it; written before each COMMIT.

use crate::db::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What happened in one child, as far as the journal knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    /// Planned, not started yet.
    Pending,
    /// Every statement ran; COMMIT was being sent when this was written.
    Committing,
    Committed,
    /// Nothing of the plan remains in the child.
    RolledBack,
    /// COMMIT was sent but its answer never came: the rows may or may not be there (`--undo` checks).
    CommitUnknown,
    /// An earlier child stopped the run.
    NotAttempted,
}

impl ChildStatus {
    pub fn may_have_rows(self) -> bool {
        matches!(
            self,
            ChildStatus::Committing | ChildStatus::Committed | ChildStatus::CommitUnknown
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryAction {
    Insert,
    Update,
}

/// One row this run wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub table: String,
    pub action: EntryAction,
    pub id: i64,
    /// The row as it was read back right after the write, column by column; `--undo` requires it unchanged.
    pub row: BTreeMap<String, serde_json::Value>,
    /// For an update, the columns it replaced (`value`, `updated_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<BTreeMap<String, serde_json::Value>>,
    /// The finding the write fixed, when it fixed one by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The statement as executed, values shown inline.
    pub sql: String,
    /// The statement `--undo` executes (with bound values) to reverse it.
    pub undo_sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildJournal {
    pub cell: String,
    /// Where the child's database is, password masked; `--undo` refuses a different one.
    pub url: String,
    /// The rows went to the child's own API database (Newton to Stein), not its main database.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_database: bool,
    pub status: ChildStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub tool: String,
    pub version: String,
    pub started_at: String,
    pub parent: String,
    pub children: Vec<ChildJournal>,
}

impl Journal {
    pub fn child_mut(&mut self, cell: &str) -> Option<&mut ChildJournal> {
        self.children.iter_mut().find(|c| c.cell == cell)
    }
}

pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Int(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => s.clone().into(),
    }
}

/// The value to bind for a journaled column (undo puts old values back with it).
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// A journal file being kept up to date: rewritten whole, through a temporary file and a rename.
pub struct JournalFile {
    pub path: PathBuf,
    pub journal: Journal,
}

impl JournalFile {
    /// Creates a new journal file in `dir` (never overwriting one) and writes the initial state.
    pub fn create(dir: &Path, journal: Journal, stamp: &str) -> Result<JournalFile, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create journal directory {}: {e}", dir.display()))?;
        let base = format!("cellaudit-sync-{stamp}-{}", std::process::id());
        for n in 0..100 {
            let name = if n == 0 {
                format!("{base}.json")
            } else {
                format!("{base}-{n}.json")
            };
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {
                    let f = JournalFile { path, journal };
                    f.save()?;
                    return Ok(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!("cannot create journal {}: {e}", path.display()));
                }
            }
        }
        Err(format!(
            "cannot find a free journal name in {}",
            dir.display()
        ))
    }

    /// Writes the whole journal; a crash leaves either the old or the new file, never half of one.
    pub fn save(&self) -> Result<(), String> {
        let text = serde_json::to_string_pretty(&self.journal)
            .map_err(|e| format!("cannot encode the journal: {e}"))?;
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| format!("cannot write journal {}: {e}", self.path.display()))
    }
}

pub fn read(path: &Path) -> Result<Journal, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
    let j: Journal = serde_json::from_str(&text).map_err(|e| {
        format!(
            "journal {} is not a cellaudit sync journal: {e}",
            path.display()
        )
    })?;
    if j.tool != "cellaudit" {
        return Err(format!(
            "journal {} was not written by cellaudit",
            path.display()
        ));
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_the_journal() {
        for v in [
            Value::Null,
            Value::Int(-7),
            Value::Int(i64::MAX),
            Value::Float(1.5),
            Value::Text("2019-03-02 10:00:00".into()),
        ] {
            assert_eq!(from_json(&to_json(&v)), v);
        }
    }
}
