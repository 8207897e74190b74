//! K-way merge-join of key-ordered row streams: groups the rows of every source by key, checking each source's order as rows arrive.
//!
//! Sources are sorted by the database (`ORDER BY key`); the merge only ever holds one batch per
//! source, so memory does not grow with table size. Its correctness rests on every source being
//! sorted under [`key_cmp`], which is exactly what it verifies row by row: a source whose key goes
//! backwards or repeats fails loudly instead of producing wrong groups.

use crate::db::{Row, RowStream, Value};
use std::cmp::Ordering;
use std::future::Future;

/// Anything that yields rows in batches: a database stream, or rows held in memory.
pub trait BatchSource {
    /// The next batch; `None` when there are no more rows.
    fn next_batch(&mut self) -> impl Future<Output = Option<Result<Vec<Row>, String>>> + Send;
}

impl BatchSource for RowStream {
    fn next_batch(&mut self) -> impl Future<Output = Option<Result<Vec<Row>, String>>> + Send {
        RowStream::next_batch(self)
    }
}

/// Key order: bytes compared with ASCII letters folded to lower case.
///
/// MariaDB's `utf8mb3_general_ci` (Nova's uuid collation) and SQLite's `NOCASE` both order
/// uuids this way; where a collation disagrees (non-ASCII, or `[\]^_`` under general_ci) the
/// sources arrive out of this order and the merge reports it rather than mis-pairing rows.
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The rows of all sources that share one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The key as the first source holding it spells it.
    pub key: String,
    /// `(source index, row)`, in source order; at most one row per source.
    pub rows: Vec<(usize, Row)>,
}

impl Group {
    pub fn from_source(&self, source: usize) -> Option<&Row> {
        self.rows.iter().find(|(s, _)| *s == source).map(|(_, r)| r)
    }
}

/// What the merge produces next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Group(Group),
    /// A source failed (read error, NULL key, or a key out of order); it takes no further part.
    /// Every group produced before this is exact for keys below the failure point.
    Failed {
        source: usize,
        error: String,
    },
}

enum State {
    Open,
    Ended,
    Failed,
}

struct Cursor<S> {
    source: S,
    state: State,
    batch: std::vec::IntoIter<Row>,
    head: Option<Row>,
    /// The last key taken from this source, reused to avoid an allocation per row.
    last: String,
    started: bool,
    rows: u64,
}

impl<S: BatchSource> Cursor<S> {
    /// Makes sure `head` holds the next row, if there is one; an error ends the cursor.
    async fn fill(&mut self, key_col: usize) -> Result<(), String> {
        while self.head.is_none() && matches!(self.state, State::Open) {
            match self.batch.next() {
                Some(row) => {
                    let key = match row.get(key_col) {
                        Some(Value::Text(k)) => k,
                        _ => {
                            return Err(format!(
                                "row {} has no text key (NULL or another type)",
                                self.rows + 1
                            ));
                        }
                    };
                    if self.started {
                        match key_cmp(key, &self.last) {
                            Ordering::Greater => {}
                            Ordering::Equal => {
                                return Err(format!(
                                    "key '{key}' appears twice (after '{}'): keys must be unique case-insensitively",
                                    self.last
                                ));
                            }
                            Ordering::Less => {
                                return Err(format!(
                                    "rows are not in key order: '{key}' came after '{}' (the database's collation does not order keys as the audit compares them)",
                                    self.last
                                ));
                            }
                        }
                    }
                    self.last.clear();
                    self.last.push_str(key);
                    self.started = true;
                    self.rows += 1;
                    self.head = Some(row);
                }
                None => match self.source.next_batch().await {
                    Some(Ok(b)) => self.batch = b.into_iter(),
                    Some(Err(e)) => return Err(e),
                    None => self.state = State::Ended,
                },
            }
        }
        Ok(())
    }
}

/// Merges sources that are each sorted by the text column `key_col`.
pub struct Merge<S> {
    cursors: Vec<Cursor<S>>,
    key_col: usize,
}

impl<S: BatchSource> Merge<S> {
    pub fn new(sources: Vec<S>, key_col: usize) -> Self {
        Merge {
            cursors: sources
                .into_iter()
                .map(|source| Cursor {
                    source,
                    state: State::Open,
                    batch: Vec::new().into_iter(),
                    head: None,
                    last: String::new(),
                    started: false,
                    rows: 0,
                })
                .collect(),
            key_col,
        }
    }

    /// The next group in key order, a source failure, or `None` when every source is done.
    pub async fn next(&mut self) -> Option<Step> {
        let key_col = self.key_col;
        for (i, c) in self.cursors.iter_mut().enumerate() {
            if let Err(error) = c.fill(key_col).await {
                c.state = State::Failed;
                c.head = None;
                c.batch = Vec::new().into_iter();
                return Some(Step::Failed { source: i, error });
            }
        }
        let mut min: Option<usize> = None;
        for (i, c) in self.cursors.iter().enumerate() {
            if let Some(h) = &c.head {
                let better = match min {
                    None => true,
                    Some(m) => {
                        key_cmp(
                            key_of(h, key_col),
                            key_of(self.cursors[m].head.as_ref()?, key_col),
                        ) == Ordering::Less
                    }
                };
                if better {
                    min = Some(i);
                }
            }
        }
        let m = min?;
        let key = key_of(self.cursors[m].head.as_ref()?, key_col).to_string();
        let mut rows = Vec::new();
        for (i, c) in self.cursors.iter_mut().enumerate() {
            if c.head
                .as_ref()
                .is_some_and(|h| key_cmp(key_of(h, key_col), &key) == Ordering::Equal)
            {
                rows.push((i, c.head.take()?));
            }
        }
        Some(Step::Group(Group { key, rows }))
    }

    /// Rows taken from each source so far.
    pub fn rows_read(&self) -> Vec<u64> {
        self.cursors.iter().map(|c| c.rows).collect()
    }

    /// Gives the sources back (for example to release their database sessions).
    pub fn into_sources(self) -> Vec<S> {
        self.cursors.into_iter().map(|c| c.source).collect()
    }
}

fn key_of(row: &Row, key_col: usize) -> &str {
    match row.get(key_col) {
        Some(Value::Text(k)) => k,
        _ => "",
    }
}
