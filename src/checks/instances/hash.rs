//! The instances check's hash mode: unordered uuids with a hash of the compared columns, sorted and merged in memory; only rows that may differ are re-read in full.
//!
//! Stream mode spends most of its time in the server's `ORDER BY uuid` over Nova's wide rows.
//! Here each cell returns its rows unordered; a task per cell keeps of each row its uuid,
//! `deleted`, `cell_name` and a 64-bit hash of the compared columns, then sorts them. The hash is
//! computed in the program, not by the server: measured on the benchmark's 300k-row pair, MariaDB
//! spent 3.0–4.8 s of CPU on `MD5(CONCAT(...))` over both sides against 0.8 s to send the
//! columns, while the program hashes them in well under that (and SQLite has no MD5 at all);
//! a production database's CPU is also the scarcer one. A merge of the sorted lists runs the
//! classifier's triage on those summaries; the groups it cannot clear are re-read in full, by
//! bound uuids in batches, from the same open snapshots, and classified by [`Audit::group`]
//! exactly as stream mode classifies them, so both modes report the same findings. Memory grows
//! by 32 bytes per row (uuid as 128 bits, hash, flags), plus the spelling of any uuid that is
//! not lowercase and well-formed.
//!
//! A 64-bit hash collision between a parent row and its child copy would hide that row's drift
//! (but never a missing, extra, deleted or misrouted row): odds of about 2^-64 per row.

use super::{Audit, DEPTH, Failures, KINDS, Side, UUID};
use crate::db::{Kind, Row, Session, Value};
use crate::merge::{Group, key_cmp};
use crate::queries::{INSTANCES_BY_UUIDS, INSTANCES_BY_UUIDS_BATCH, INSTANCES_HASHED};
use md5::{Digest, Md5};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Rows per batch from a reading task; the summary, not the batches, is what holds memory here.
const BATCH: usize = 1024;

// Column positions in `queries/v1_instances_hash.sql`; the compared columns follow `H_CELL_NAME`,
// in `COMPARED` order.
const H_DELETED: usize = 1;
const H_CELL_NAME: usize = 2;

const H_KINDS: &[Kind] = &[
    Kind::Text, // uuid
    Kind::Int,  // deleted
    Kind::Text, // cell_name
    Kind::Text, // host
    Kind::Text, // node
    Kind::Text, // vm_state
    Kind::Text, // task_state
    Kind::Int,  // power_state
    Kind::Text, // availability_zone
    Kind::Text, // project_id
    Kind::Text, // user_id
    Kind::Int,  // instance_type_id
    Kind::Text, // display_name
];

/// `Entry::meta` bits: soft-deleted; key is not a well-formed uuid (`id` indexes `Summary::odd`);
/// the rest is the interned `cell_name` (0 for NULL).
const DELETED: u32 = 1 << 31;
const ODD: u32 = 1 << 30;
const CELL: u32 = ODD - 1;

/// One instance row as hash mode keeps it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u128,
    hash: u64,
    meta: u32,
}

/// A key as the merge compares it: every well-formed uuid before any other key, uuids by value
/// (the order of their lowercase spelling), other keys as [`key_cmp`] orders them.
#[derive(Debug, Clone, Copy)]
enum KeyRef<'a> {
    Uuid(u128),
    Odd(&'a str),
}

fn key_order(a: KeyRef<'_>, b: KeyRef<'_>) -> Ordering {
    match (a, b) {
        (KeyRef::Uuid(x), KeyRef::Uuid(y)) => x.cmp(&y),
        (KeyRef::Uuid(_), KeyRef::Odd(_)) => Ordering::Less,
        (KeyRef::Odd(_), KeyRef::Uuid(_)) => Ordering::Greater,
        (KeyRef::Odd(x), KeyRef::Odd(y)) => key_cmp(x, y),
    }
}

/// A key held past the merge, equal when [`key_order`] says equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Uuid(u128),
    /// ASCII-lowercased, as [`key_cmp`] folds it.
    Odd(String),
}

impl Key {
    fn of(k: KeyRef<'_>) -> Key {
        match k {
            KeyRef::Uuid(v) => Key::Uuid(v),
            KeyRef::Odd(s) => Key::Odd(s.to_ascii_lowercase()),
        }
    }

    fn parse(s: &str) -> Key {
        match parse_uuid(s) {
            Some((v, _)) => Key::Uuid(v),
            None => Key::Odd(s.to_ascii_lowercase()),
        }
    }
}

/// A well-formed uuid (8-4-4-4-12 hex digits, either case) as 128 bits, and whether it is spelt
/// in lowercase. Any string that folds to a well-formed uuid is one, so parsed and odd keys never
/// compare equal.
fn parse_uuid(s: &str) -> Option<(u128, bool)> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    let mut lower = true;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => {
                lower = false;
                c - b'A' + 10
            }
            _ => return None,
        };
        v = (v << 4) | u128::from(d);
    }
    Some((v, lower))
}

fn format_uuid(v: u128) -> String {
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `n` in decimal, written into `out` without allocating.
fn decimal(n: u64, out: &mut [u8; 20]) -> &[u8] {
    let mut i = out.len();
    let mut n = n;
    loop {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &out[i..]
}

/// A 64-bit hash of compared columns that differs whenever `Value` equality does (but for
/// collisions): each value as its length in characters, ':', its text, or `n` for NULL, which is
/// self-delimiting, so NULL, '' and values shifted across a column boundary never encode alike
/// (CONCAT_WS-style joining would skip NULLs or let separators shift); MD5; the first 64 bits.
/// Integers are marked `i` and REALs (SQLite only) `f`, so 1 never equals '1', as in stream mode.
fn program_hash(cols: &[Value], buf: &mut Vec<u8>) -> u64 {
    fn piece(buf: &mut Vec<u8>, chars: usize, parts: &[&[u8]]) {
        buf.extend_from_slice(decimal(chars as u64, &mut [0; 20]));
        buf.push(b':');
        for p in parts {
            buf.extend_from_slice(p);
        }
    }
    buf.clear();
    for v in cols {
        match v {
            Value::Null => buf.push(b'n'),
            Value::Int(i) => {
                let mut out = [0; 20];
                let digits = decimal(i.unsigned_abs(), &mut out);
                let sign: &[u8] = if *i < 0 { b"-" } else { b"" };
                buf.push(b'i');
                piece(buf, sign.len() + digits.len(), &[sign, digits]);
            }
            Value::Text(s) => piece(buf, s.chars().count(), &[s.as_bytes()]),
            Value::Float(f) => {
                let s = f.to_string();
                buf.push(b'f');
                piece(buf, s.chars().count(), &[s.as_bytes()]);
            }
        }
    }
    let digest = Md5::digest(buf.as_slice());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// One cell's instances, sorted by key.
#[derive(Debug, Default)]
struct Summary {
    entries: Vec<Entry>,
    /// The exact spelling of keys that are not well-formed uuids.
    odd: Vec<Box<str>>,
    /// The exact spelling of well-formed uuids not written in lowercase (re-reads bind it as is).
    spelt: HashMap<u128, Box<str>>,
    /// Interned `cell_name` values: index i + 1 in `Entry::meta`.
    cells: Vec<Box<str>>,
    cell_ids: HashMap<Box<str>, u32>,
}

impl Summary {
    fn key(&self, e: &Entry) -> KeyRef<'_> {
        if e.meta & ODD != 0 {
            KeyRef::Odd(&self.odd[e.id as usize])
        } else {
            KeyRef::Uuid(e.id)
        }
    }

    fn cell_name(&self, e: &Entry) -> Option<&str> {
        match e.meta & CELL {
            0 => None,
            i => Some(&self.cells[i as usize - 1]),
        }
    }

    /// The key as this cell spells it, for binding in a re-read.
    fn spelling(&self, e: &Entry) -> String {
        match self.key(e) {
            KeyRef::Odd(s) => s.to_string(),
            KeyRef::Uuid(v) => match self.spelt.get(&v) {
                Some(s) => s.to_string(),
                None => format_uuid(v),
            },
        }
    }

    fn push(&mut self, row: &Row, buf: &mut Vec<u8>) -> Result<(), String> {
        let Some(Value::Text(uuid)) = row.first() else {
            return Err(format!(
                "row {} has no text key (NULL or another type)",
                self.entries.len() + 1
            ));
        };
        let hash = program_hash(&row[H_CELL_NAME + 1..], buf);
        let mut meta = 0;
        if row[H_DELETED].truthy() {
            meta |= DELETED;
        }
        if let Value::Text(c) = &row[H_CELL_NAME] {
            let id = match self.cell_ids.get(c.as_str()) {
                Some(id) => *id,
                None => {
                    let id = self.cells.len() as u32 + 1;
                    if id > CELL {
                        return Err("too many distinct cell_name values".into());
                    }
                    self.cells.push(c.as_str().into());
                    self.cell_ids.insert(c.as_str().into(), id);
                    id
                }
            };
            meta |= id;
        }
        let id = match parse_uuid(uuid) {
            Some((v, lower)) => {
                if !lower {
                    self.spelt.insert(v, uuid.as_str().into());
                }
                v
            }
            None => {
                meta |= ODD;
                self.odd.push(uuid.as_str().into());
                (self.odd.len() - 1) as u128
            }
        };
        self.entries.push(Entry { id, hash, meta });
        Ok(())
    }

    /// Sorts by key; a key twice (case-insensitively) fails as it does in stream mode.
    fn sort(&mut self) -> Result<(), String> {
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by(|a, b| key_order(self.key(a), self.key(b)));
        let twice = entries
            .windows(2)
            .find(|w| key_order(self.key(&w[0]), self.key(&w[1])) == Ordering::Equal);
        if let Some(w) = twice {
            return Err(format!(
                "key '{}' appears twice (and '{}'): keys must be unique case-insensitively",
                self.spelling(&w[1]),
                self.spelling(&w[0])
            ));
        }
        self.entries = entries;
        Ok(())
    }
}

/// Reads one cell's summary in a task of its own; gives the session back unless its query was abandoned.
async fn summarize(session: Session) -> (Option<Session>, Result<Summary, String>) {
    let sql = INSTANCES_HASHED.sql(session.dialect());
    let mut stream = session.stream(sql, H_KINDS, BATCH, DEPTH);
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    let mut error = None;
    'read: while let Some(batch) = stream.next_batch().await {
        match batch {
            Ok(rows) => {
                for row in &rows {
                    if let Err(e) = summary.push(row, &mut buf) {
                        error = Some(e);
                        break 'read;
                    }
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let back = stream.finish().await;
    let result = match error {
        Some(e) => Err(e),
        None => summary.sort().map(|()| summary),
    };
    (back, result)
}

/// A group the triage could not clear: its key and the sources holding it, in source order.
struct Suspect {
    key: Key,
    sources: Vec<usize>,
}

/// Merges the sorted summaries and returns the groups that need a full look, with, per source,
/// the spellings to re-read.
fn triage_all(audit: &Audit<'_>, sums: &[Option<Summary>]) -> (Vec<Suspect>, Vec<Vec<String>>) {
    let n = sums.len();
    let mut heads = vec![0usize; n];
    let mut suspects = Vec::new();
    let mut wanted: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut members: Vec<usize> = Vec::with_capacity(n);
    let mut kids: Vec<Side> = Vec::with_capacity(n);
    let head = |s: usize, heads: &[usize]| -> Option<(&Summary, &Entry)> {
        let sum = sums[s].as_ref()?;
        sum.entries.get(heads[s]).map(|e| (sum, e))
    };
    loop {
        let mut min: Option<KeyRef> = None;
        for s in 0..n {
            if let Some((sum, e)) = head(s, &heads) {
                let k = sum.key(e);
                if min.is_none_or(|m| key_order(k, m) == Ordering::Less) {
                    min = Some(k);
                }
            }
        }
        let Some(min) = min else { break };
        members.clear();
        for s in 0..n {
            if let Some((sum, e)) = head(s, &heads)
                && key_order(sum.key(e), min) == Ordering::Equal
            {
                members.push(s);
            }
        }
        let side = |s: usize| {
            let (sum, e) = head(s, &heads).expect("a member has a head");
            Side {
                source: s,
                deleted: e.meta & DELETED != 0,
                cell_name: sum.cell_name(e),
            }
        };
        let parent = (members.first() == Some(&0)).then(|| side(0));
        kids.clear();
        kids.extend(members.iter().filter(|s| **s != 0).map(|s| side(*s)));
        let phash = head(0, &heads)
            .filter(|_| parent.is_some())
            .map(|(_, e)| e.hash);
        let same = |k: &Side| {
            let h = head(k.source, &heads).map(|(_, e)| e.hash);
            phash.is_some() && h == phash
        };
        if audit.triage(parent, &kids, same) {
            for s in &members {
                let (sum, e) = head(*s, &heads).expect("a member has a head");
                wanted[*s].push(sum.spelling(e));
            }
            suspects.push(Suspect {
                key: Key::of(min),
                sources: members.clone(),
            });
        }
        for s in &members {
            heads[*s] += 1;
        }
    }
    (suspects, wanted)
}

/// Re-reads the full rows of `spellings` from one cell's snapshot, by key.
async fn reread(session: &mut Session, spellings: &[String]) -> Result<HashMap<Key, Row>, String> {
    let mut rows = HashMap::with_capacity(spellings.len());
    for chunk in spellings.chunks(INSTANCES_BY_UUIDS_BATCH) {
        let last = chunk[chunk.len() - 1].as_str();
        let binds: Vec<&str> = chunk
            .iter()
            .map(String::as_str)
            .chain(std::iter::repeat(last))
            .take(INSTANCES_BY_UUIDS_BATCH)
            .collect();
        for row in session
            .fetch_bound_typed(INSTANCES_BY_UUIDS, &binds, KINDS)
            .await?
        {
            if let Value::Text(k) = &row[UUID] {
                rows.insert(Key::parse(k), row);
            }
        }
    }
    Ok(rows)
}

/// Hash mode over `sources` (the parent first): findings go to `audit`; returns the failures and
/// each source's session (`None` where its connection had to close).
pub(super) async fn audit(
    audit: &mut Audit<'_>,
    sources: Vec<Session>,
) -> (Failures, Vec<Option<Session>>) {
    let tasks: Vec<_> = sources
        .into_iter()
        .map(|s| tokio::spawn(summarize(s)))
        .collect();
    let mut failed = Failures::new();
    let mut sessions: Vec<Option<Session>> = Vec::with_capacity(tasks.len());
    let mut sums: Vec<Option<Summary>> = Vec::with_capacity(tasks.len());
    for (source, task) in futures::future::join_all(tasks)
        .await
        .into_iter()
        .enumerate()
    {
        let (session, summary) = match task {
            Ok(done) => done,
            Err(e) => (None, Err(format!("the reading task failed: {e}"))),
        };
        sessions.push(session);
        match summary {
            Ok(s) => sums.push(Some(s)),
            Err(e) => {
                failed.insert(source, e);
                sums.push(None);
            }
        }
    }
    if failed.contains_key(&0) {
        return (failed, sessions);
    }
    // A failed child is known before the merge: no parent copy is called a ghost for its sake.
    for source in failed.keys() {
        audit.unaudited.insert(audit.names[*source].to_string());
    }

    let (suspects, wanted) = triage_all(audit, &sums);
    drop(sums);

    let rereads = futures::future::join_all(sessions.iter_mut().zip(&wanted).map(
        |(session, spellings)| async move {
            match session {
                Some(s) if !spellings.is_empty() => reread(s, spellings).await,
                _ => Ok(HashMap::new()),
            }
        },
    ))
    .await;
    let mut fetched: Vec<HashMap<Key, Row>> = Vec::with_capacity(rereads.len());
    for (source, r) in rereads.into_iter().enumerate() {
        match r {
            Ok(rows) => fetched.push(rows),
            Err(e) => {
                failed.insert(source, e);
                fetched.push(HashMap::new());
            }
        }
    }
    // Within one snapshot a listed row is always there to re-read; if not, that cell's answer is void.
    for sus in &suspects {
        for s in &sus.sources {
            if !failed.contains_key(s) && !fetched[*s].contains_key(&sus.key) {
                failed.insert(
                    *s,
                    format!(
                        "an instance listed in the snapshot could not be re-read ({:?})",
                        sus.key
                    ),
                );
            }
        }
    }
    if failed.contains_key(&0) {
        return (failed, sessions);
    }
    for source in failed.keys() {
        audit.unaudited.insert(audit.names[*source].to_string());
    }

    for sus in suspects {
        let rows: Vec<(usize, Row)> = sus
            .sources
            .iter()
            .filter(|s| !failed.contains_key(s))
            .filter_map(|s| fetched[*s].remove(&sus.key).map(|r| (*s, r)))
            .collect();
        // The key as the first source holding it spells it, as the streamed merge reports it.
        let Some(key) = rows.first().and_then(|(_, r)| match &r[UUID] {
            Value::Text(k) => Some(k.clone()),
            _ => None,
        }) else {
            continue;
        };
        audit.group(&Group { key, rows });
    }
    (failed, sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_parse_and_format_in_key_order() {
        let a = "0a1b2c3d-0000-4000-8000-00000000000f";
        let (v, lower) = parse_uuid(a).unwrap();
        assert!(lower);
        assert_eq!(format_uuid(v), a);
        let (w, lower) = parse_uuid(&a.to_ascii_uppercase()).unwrap();
        assert!(!lower);
        assert_eq!(v, w);
        let b = "0a1b2c3d-0000-4000-8000-0000000000a0";
        assert_eq!(
            parse_uuid(a).unwrap().0.cmp(&parse_uuid(b).unwrap().0),
            key_cmp(a, b)
        );
        for bad in ["", "0a1b2c3d00000-4000-8000-00000000000f", "g000..."] {
            assert!(parse_uuid(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_batch_query_has_one_placeholder_per_slot() {
        assert_eq!(
            INSTANCES_BY_UUIDS.matches('?').count(),
            INSTANCES_BY_UUIDS_BATCH
        );
    }

    #[test]
    fn integers_hash_as_marked_decimal_text() {
        let mut buf = Vec::new();
        for i in [0i64, 7, -7, 1234567, i64::MIN, i64::MAX] {
            let a = program_hash(&[Value::Int(i)], &mut buf);
            assert_eq!(buf, format!("i{}:{i}", i.to_string().len()).into_bytes());
            assert_ne!(a, program_hash(&[Value::Text(i.to_string())], &mut buf));
        }
        program_hash(&[Value::Text("é".into()), Value::Null], &mut buf);
        assert_eq!(buf, "1:én".as_bytes());
    }

    #[test]
    fn the_program_hash_separates_null_empty_and_shifted_values() {
        let mut buf = Vec::new();
        let mut h = |v: Vec<Value>| program_hash(&v, &mut buf);
        let t = |s: &str| Value::Text(s.into());
        let all = [
            h(vec![Value::Null, t("x")]),
            h(vec![t(""), t("x")]),
            h(vec![t("n"), t("x")]),
            h(vec![t("a,b"), t("c")]),
            h(vec![t("a"), t("b,c")]),
            h(vec![Value::Int(1), t("x")]),
            h(vec![t("1"), t("x")]),
            h(vec![Value::Float(1.0), t("x")]),
        ];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{i} vs {j}");
            }
        }
    }
}
