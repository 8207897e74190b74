//! The journal of an applied sync run: every row written, child by child, with a checksum; written (0600) before each COMMIT and after each undo.

use crate::db::Value;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
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
    /// `--undo` reversed this child's rows and committed; a later `--undo` skips it.
    Undone,
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
#[serde(deny_unknown_fields)]
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
    /// The statement as executed, values shown inline; for people only: `--undo` builds its
    /// statements from `table`, `action`, `id` and `before`, and shows exactly those.
    pub sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct Journal {
    pub tool: String,
    pub version: String,
    pub started_at: String,
    pub parent: String,
    pub children: Vec<ChildJournal>,
    /// SHA-256 of everything above (see [`checksum`]); `--undo` refuses a journal whose checksum
    /// does not match, as damaged or edited.
    #[serde(default)]
    pub checksum: String,
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

/// The SHA-256 (hex) of the journal's content with an empty `checksum`, in its compact JSON form.
///
/// It catches a damaged file and a hand edit; it is not a signature: whoever can write the journal
/// can recompute it. What keeps an undo safe is that its statements are built from the entries
/// alone, only for tables sync writes, and only run on rows that are still exactly as written.
pub fn checksum(j: &Journal) -> String {
    let mut plain = j.clone();
    plain.checksum.clear();
    let text = serde_json::to_string(&plain).unwrap_or_default();
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where journals go without `--journal-dir`: `$XDG_STATE_HOME/cellaudit` when that is set (an
/// absolute path, as the XDG spec requires), else `/var/lib/cellaudit` for root, else
/// `~/.local/state/cellaudit`. Never the current directory: a journal is as sensitive as the
/// credentials that wrote it and must not land in whatever directory the command ran in.
pub fn default_dir(
    euid: u32,
    xdg_state_home: Option<&std::ffi::OsStr>,
    home: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, String> {
    if let Some(x) = xdg_state_home.map(Path::new).filter(|p| p.is_absolute()) {
        return Ok(x.join("cellaudit"));
    }
    if euid == 0 {
        return Ok(PathBuf::from("/var/lib/cellaudit"));
    }
    match home.map(Path::new).filter(|p| p.is_absolute()) {
        Some(h) => Ok(h.join(".local/state/cellaudit")),
        None => Err(
            "no directory for the journal: HOME and XDG_STATE_HOME are not set; give --journal-dir"
                .into(),
        ),
    }
}

/// [`default_dir`] for this process.
pub fn default_dir_here() -> Result<PathBuf, String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    default_dir(
        euid,
        std::env::var_os("XDG_STATE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// Creates the journal directory (and its parents) as 0700 when it does not exist yet.
fn create_dir(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| format!("cannot create journal directory {}: {e}", dir.display()))
}

/// A journal file being kept up to date: rewritten whole, through a temporary file and a rename.
pub struct JournalFile {
    pub path: PathBuf,
    pub journal: Journal,
}

impl JournalFile {
    /// Creates a new journal file (0600) in `dir` (created 0700 if missing; never overwriting a
    /// journal) and writes the initial state.
    pub fn create(dir: &Path, journal: Journal, stamp: &str) -> Result<JournalFile, String> {
        create_dir(dir)?;
        let base = format!("cellaudit-sync-{stamp}-{}", std::process::id());
        for n in 0..100 {
            let name = if n == 0 {
                format!("{base}.json")
            } else {
                format!("{base}-{n}.json")
            };
            let path = dir.join(name);
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            match o.open(&path) {
                Ok(_) => {
                    let mut f = JournalFile { path, journal };
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

    /// Opens an existing journal for `--undo`, which records in it what it reversed.
    pub fn open(path: &Path) -> Result<JournalFile, String> {
        Ok(JournalFile {
            path: path.to_path_buf(),
            journal: read(path)?,
        })
    }

    /// Writes the whole journal with a fresh checksum, through a 0600 temporary file in the same
    /// directory and a rename: a crash leaves either the old or the new file, never half of one.
    pub fn save(&mut self) -> Result<(), String> {
        self.journal.checksum = checksum(&self.journal);
        let text = serde_json::to_string_pretty(&self.journal)
            .map_err(|e| format!("cannot encode the journal: {e}"))?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let write = || -> std::io::Result<()> {
            // tempfile creates the file 0600 with a random name (O_EXCL), so nothing planted in
            // the directory can redirect the write.
            let mut tmp = tempfile::Builder::new()
                .prefix(".cellaudit-journal.")
                .suffix(".tmp")
                .tempfile_in(dir)?;
            tmp.write_all(text.as_bytes())?;
            tmp.write_all(b"\n")?;
            tmp.as_file().sync_all()?;
            tmp.persist(&self.path).map_err(|e| e.error)?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| format!("cannot write journal {}: {e}", self.path.display()))
    }
}

/// Reads a journal and verifies its checksum; a damaged or edited journal is refused with the reason.
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
    if j.checksum.is_empty() {
        return Err(format!(
            "journal {} has no checksum (an older cellaudit, or it was edited); refusing to undo from it",
            path.display()
        ));
    }
    let want = checksum(&j);
    if j.checksum != want {
        return Err(format!(
            "journal {} is damaged or was edited: its checksum {} does not match its content ({want}); refusing to undo from it",
            path.display(),
            j.checksum
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

    #[test]
    fn the_default_directory_is_never_the_current_one() {
        use std::ffi::OsStr;
        let xdg = Some(OsStr::new("/x/state"));
        let home = Some(OsStr::new("/home/op"));
        assert_eq!(
            default_dir(1000, xdg, home).unwrap(),
            PathBuf::from("/x/state/cellaudit")
        );
        assert_eq!(
            default_dir(1000, None, home).unwrap(),
            PathBuf::from("/home/op/.local/state/cellaudit")
        );
        // A relative XDG_STATE_HOME is invalid by the spec and ignored.
        assert_eq!(
            default_dir(1000, Some(OsStr::new("rel")), home).unwrap(),
            PathBuf::from("/home/op/.local/state/cellaudit")
        );
        assert_eq!(
            default_dir(0, None, Some(OsStr::new("/root"))).unwrap(),
            PathBuf::from("/var/lib/cellaudit")
        );
        assert!(default_dir(1000, None, None).is_err());
    }

    fn sample() -> Journal {
        let row: BTreeMap<String, serde_json::Value> = [
            ("id".to_string(), 7.into()),
            ("name".to_string(), "a\nb".into()),
        ]
        .into();
        Journal {
            tool: "cellaudit".into(),
            version: "0".into(),
            started_at: "2026-01-01 00:00:00".into(),
            parent: "api".into(),
            children: vec![ChildJournal {
                cell: "child1".into(),
                url: "sqlite:///x".into(),
                api_database: false,
                status: ChildStatus::Committed,
                message: None,
                entries: vec![Entry {
                    table: "aggregates".into(),
                    action: EntryAction::Insert,
                    id: 7,
                    row,
                    before: None,
                    finding: None,
                    sql: "INSERT ...".into(),
                }],
            }],
            checksum: String::new(),
        }
    }

    #[test]
    fn journals_are_0600_in_a_0700_directory_and_an_edit_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("state/cellaudit");
        let mut f = JournalFile::create(&jdir, sample(), "T").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&jdir), 0o700);
        assert_eq!(mode(&f.path), 0o600);
        f.journal.children[0].status = ChildStatus::Undone;
        f.save().unwrap();
        assert_eq!(mode(&f.path), 0o600);
        assert_eq!(
            read(&f.path).unwrap().children[0].status,
            ChildStatus::Undone
        );
        // Only the journal is left in the directory, no temporary file.
        assert_eq!(std::fs::read_dir(&jdir).unwrap().count(), 1);

        let text = std::fs::read_to_string(&f.path).unwrap();
        let edited = text.replace("\"id\": 7", "\"id\": 8");
        assert_ne!(edited, text);
        std::fs::write(&f.path, edited).unwrap();
        let err = read(&f.path).unwrap_err();
        assert!(err.contains("is damaged or was edited"), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("checksum");
        std::fs::write(&f.path, v.to_string()).unwrap();
        let err = read(&f.path).unwrap_err();
        assert!(err.contains("has no checksum"), "{err}");
        // Re-indenting is not an edit.
        std::fs::write(
            &f.path,
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert!(read(&f.path).is_ok());
    }
}
