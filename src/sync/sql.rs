//! The statements `sync` executes (all from `queries/sync_*.sql`, values always bound) and their display form.

use crate::db::{Dialect, Value};
use crate::queries::{Dataset, Query};

/// One statement from `queries/`, in the spelling each dialect needs (the same text when portable).
#[derive(Debug)]
pub struct Q {
    /// The file stem; journals name undo statements by it, never by SQL text.
    pub name: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
}

impl Q {
    pub fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::MySql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

macro_rules! portable {
    ($name:literal) => {
        Q {
            name: $name,
            mysql: include_str!(concat!("../../queries/", $name, ".sql")),
            sqlite: include_str!(concat!("../../queries/", $name, ".sql")),
        }
    };
}

// Only locking reads differ: MySQL needs FOR UPDATE, SQLite's BEGIN IMMEDIATE already holds the write lock.
macro_rules! per_dialect {
    ($name:literal) => {
        Q {
            name: $name,
            mysql: include_str!(concat!("../../queries/", $name, ".mysql.sql")),
            sqlite: include_str!(concat!("../../queries/", $name, ".sqlite.sql")),
        }
    };
}

pub const INSERT_AGGREGATE: Q = portable!("sync_insert_aggregate");
pub const INSERT_AGGREGATE_METADATA: Q = portable!("sync_insert_aggregate_metadata");
pub const INSERT_AGGREGATE_HOST: Q = portable!("sync_insert_aggregate_host");
pub const UPDATE_AGGREGATE_METADATA: Q = portable!("sync_update_aggregate_metadata");

pub const LOCK_AGGREGATE_BY_NAME: Q = per_dialect!("sync_lock_aggregate_by_name");
pub const LOCK_AGGREGATE_BY_ID: Q = per_dialect!("sync_lock_aggregate_by_id");
pub const LOCK_AGGREGATE_METADATA: Q = per_dialect!("sync_lock_aggregate_metadata");
pub const LOCK_AGGREGATE_HOST: Q = per_dialect!("sync_lock_aggregate_host");
pub const LOCK_COMPUTE_SERVICE: Q = per_dialect!("sync_lock_compute_service");

pub const INSERT_FLAVOR: Q = portable!("sync_insert_flavor");
pub const INSERT_FLAVOR_NEW_ID: Q = portable!("sync_insert_flavor_new_id");
pub const INSERT_FLAVOR_EXTRA_SPEC: Q = portable!("sync_insert_flavor_extra_spec");
pub const UPDATE_FLAVOR_EXTRA_SPEC: Q = portable!("sync_update_flavor_extra_spec");

pub const LOCK_FLAVOR_CLASH: Q = per_dialect!("sync_lock_flavor_clash");
pub const LOCK_FLAVOR_ID: Q = per_dialect!("sync_lock_flavor_id");
pub const LOCK_FLAVOR_BY_ID: Q = per_dialect!("sync_lock_flavor_by_id");
pub const LOCK_FLAVOR_EXTRA_SPEC: Q = per_dialect!("sync_lock_flavor_extra_spec");

/// A table `sync` writes: how to read one of its rows back by id, and how to reverse a write.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Column names of `row`'s result, in order; the journal keys row contents by them.
    pub columns: &'static [&'static str],
    pub row: Q,
    pub delete: Q,
    /// Puts back `value` and `updated_at` (bound in that order, then the id) after a --fix-drift update.
    pub undo_update: Option<Q>,
    /// Counts rows that still point at a row about to be removed (every `?` is the row's id).
    pub refs: Option<Q>,
}

pub const AGGREGATES: Table = Table {
    name: "aggregates",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "name",
        "uuid",
        "deleted",
    ],
    row: per_dialect!("sync_row_aggregate"),
    delete: portable!("sync_undo_delete_aggregate"),
    undo_update: None,
    refs: Some(portable!("sync_count_aggregate_refs")),
};

pub const AGGREGATE_METADATA: Table = Table {
    name: "aggregate_metadata",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "aggregate_id",
        "key",
        "value",
        "deleted",
    ],
    row: per_dialect!("sync_row_aggregate_metadata"),
    delete: portable!("sync_undo_delete_aggregate_metadata"),
    undo_update: Some(portable!("sync_undo_update_aggregate_metadata")),
    refs: None,
};

pub const AGGREGATE_HOSTS: Table = Table {
    name: "aggregate_hosts",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "host",
        "aggregate_id",
        "deleted",
    ],
    row: per_dialect!("sync_row_aggregate_host"),
    delete: portable!("sync_undo_delete_aggregate_host"),
    undo_update: None,
    refs: None,
};

pub const FLAVORS: Table = Table {
    name: "instance_types",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "name",
        "memory_mb",
        "vcpus",
        "swap",
        "vcpu_weight",
        "flavorid",
        "rxtx_factor",
        "root_gb",
        "ephemeral_gb",
        "disabled",
        "is_public",
        "deleted",
    ],
    row: per_dialect!("sync_row_flavor"),
    delete: portable!("sync_undo_delete_flavor"),
    undo_update: None,
    refs: Some(portable!("sync_count_flavor_refs")),
};

pub const FLAVOR_EXTRA_SPECS: Table = Table {
    name: "instance_type_extra_specs",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "instance_type_id",
        "key",
        "value",
        "deleted",
    ],
    row: per_dialect!("sync_row_flavor_extra_spec"),
    delete: portable!("sync_undo_delete_flavor_extra_spec"),
    undo_update: Some(portable!("sync_undo_update_flavor_extra_spec")),
    refs: None,
};

/// `aggregates` before Mitaka (main migration 317 added `uuid`).
pub const AGGREGATES_NO_UUID: Table = Table {
    name: "aggregates_without_uuid",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "name",
        "deleted",
    ],
    row: per_dialect!("sync_row_aggregate_no_uuid"),
    delete: portable!("sync_undo_delete_aggregate"),
    undo_update: None,
    refs: Some(portable!("sync_count_aggregate_refs")),
};

// The tables of a child's own API database (Newton to Stein): no soft-delete columns, journaled
// under `nova_api.` names so an undo reads them back where they were written.
pub const API_AGGREGATES: Table = Table {
    name: "nova_api.aggregates",
    columns: &["id", "created_at", "updated_at", "name", "uuid"],
    row: per_dialect!("sync_api_row_aggregate"),
    delete: portable!("sync_api_undo_delete_aggregate"),
    undo_update: None,
    refs: Some(portable!("sync_api_count_aggregate_refs")),
};

pub const API_AGGREGATE_METADATA: Table = Table {
    name: "nova_api.aggregate_metadata",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "aggregate_id",
        "key",
        "value",
    ],
    row: per_dialect!("sync_api_row_aggregate_metadata"),
    delete: portable!("sync_api_undo_delete_aggregate_metadata"),
    undo_update: Some(portable!("sync_api_undo_update_aggregate_metadata")),
    refs: None,
};

pub const API_AGGREGATE_HOSTS: Table = Table {
    name: "nova_api.aggregate_hosts",
    columns: &["id", "created_at", "updated_at", "host", "aggregate_id"],
    row: per_dialect!("sync_api_row_aggregate_host"),
    delete: portable!("sync_api_undo_delete_aggregate_host"),
    undo_update: None,
    refs: None,
};

pub const API_FLAVORS: Table = Table {
    name: "nova_api.flavors",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "name",
        "memory_mb",
        "vcpus",
        "swap",
        "vcpu_weight",
        "flavorid",
        "rxtx_factor",
        "root_gb",
        "ephemeral_gb",
        "disabled",
        "is_public",
    ],
    row: per_dialect!("sync_api_row_flavor"),
    delete: portable!("sync_api_undo_delete_flavor"),
    undo_update: None,
    refs: Some(portable!("sync_api_count_flavor_refs")),
};

pub const API_FLAVOR_EXTRA_SPECS: Table = Table {
    name: "nova_api.flavor_extra_specs",
    columns: &[
        "id",
        "created_at",
        "updated_at",
        "flavor_id",
        "key",
        "value",
    ],
    row: per_dialect!("sync_api_row_flavor_extra_spec"),
    delete: portable!("sync_api_undo_delete_flavor_extra_spec"),
    undo_update: Some(portable!("sync_api_undo_update_flavor_extra_spec")),
    refs: None,
};

/// Every table sync may write, for reading journals back.
pub const TABLES: &[&Table] = &[
    &AGGREGATES,
    &AGGREGATE_METADATA,
    &AGGREGATE_HOSTS,
    &FLAVORS,
    &FLAVOR_EXTRA_SPECS,
    &AGGREGATES_NO_UUID,
    &API_AGGREGATES,
    &API_AGGREGATE_METADATA,
    &API_AGGREGATE_HOSTS,
    &API_FLAVORS,
    &API_FLAVOR_EXTRA_SPECS,
];

/// Which Nova object a journaled table holds, for the cache advice after a run.
pub fn object_of(table: &str) -> Option<&'static str> {
    let t = table.strip_prefix("nova_api.").unwrap_or(table);
    if t.starts_with("aggregate") {
        Some("aggregate")
    } else if t.starts_with("instance_type") || t.starts_with("flavor") {
        Some("flavor")
    } else {
        None
    }
}

/// The statements and tables of one place sync writes: a child's main database (up to Mitaka, with
/// or without `aggregates.uuid`) or its own API database (Newton on). Each statement takes the same
/// values in the same order in every catalogue, so one plan fits any of them.
#[derive(Debug)]
pub struct Catalogue {
    pub aggregates: &'static Table,
    pub aggregate_metadata: &'static Table,
    pub aggregate_hosts: &'static Table,
    pub flavors: &'static Table,
    pub flavor_extra_specs: &'static Table,
    pub insert_aggregate: &'static Q,
    /// Whether `insert_aggregate` and `lock_aggregate_by_name` take the uuid.
    pub has_uuid: bool,
    pub insert_aggregate_metadata: &'static Q,
    pub insert_aggregate_host: &'static Q,
    pub update_aggregate_metadata: &'static Q,
    pub lock_aggregate_by_name: &'static Q,
    pub lock_aggregate_by_id: &'static Q,
    pub lock_aggregate_metadata: &'static Q,
    pub lock_aggregate_host: &'static Q,
    /// The compute service re-check; `None` in an API database, which has no `services`.
    pub lock_compute_service: Option<&'static Q>,
    pub insert_flavor: &'static Q,
    pub insert_flavor_new_id: &'static Q,
    pub insert_flavor_extra_spec: &'static Q,
    pub update_flavor_extra_spec: &'static Q,
    pub lock_flavor_clash: &'static Q,
    pub lock_flavor_id: &'static Q,
    pub lock_flavor_by_id: &'static Q,
    pub lock_flavor_extra_spec: &'static Q,
}

pub const MAIN: Catalogue = Catalogue {
    aggregates: &AGGREGATES,
    aggregate_metadata: &AGGREGATE_METADATA,
    aggregate_hosts: &AGGREGATE_HOSTS,
    flavors: &FLAVORS,
    flavor_extra_specs: &FLAVOR_EXTRA_SPECS,
    insert_aggregate: &INSERT_AGGREGATE,
    has_uuid: true,
    insert_aggregate_metadata: &INSERT_AGGREGATE_METADATA,
    insert_aggregate_host: &INSERT_AGGREGATE_HOST,
    update_aggregate_metadata: &UPDATE_AGGREGATE_METADATA,
    lock_aggregate_by_name: &LOCK_AGGREGATE_BY_NAME,
    lock_aggregate_by_id: &LOCK_AGGREGATE_BY_ID,
    lock_aggregate_metadata: &LOCK_AGGREGATE_METADATA,
    lock_aggregate_host: &LOCK_AGGREGATE_HOST,
    lock_compute_service: Some(&LOCK_COMPUTE_SERVICE),
    insert_flavor: &INSERT_FLAVOR,
    insert_flavor_new_id: &INSERT_FLAVOR_NEW_ID,
    insert_flavor_extra_spec: &INSERT_FLAVOR_EXTRA_SPEC,
    update_flavor_extra_spec: &UPDATE_FLAVOR_EXTRA_SPEC,
    lock_flavor_clash: &LOCK_FLAVOR_CLASH,
    lock_flavor_id: &LOCK_FLAVOR_ID,
    lock_flavor_by_id: &LOCK_FLAVOR_BY_ID,
    lock_flavor_extra_spec: &LOCK_FLAVOR_EXTRA_SPEC,
};

pub const INSERT_AGGREGATE_NO_UUID: Q = portable!("sync_insert_aggregate_no_uuid");
pub const LOCK_AGGREGATE_BY_NAME_NO_UUID: Q = per_dialect!("sync_lock_aggregate_by_name_no_uuid");

/// A main database before Mitaka: as [`MAIN`] without `aggregates.uuid`.
pub const MAIN_NO_UUID: Catalogue = Catalogue {
    aggregates: &AGGREGATES_NO_UUID,
    insert_aggregate: &INSERT_AGGREGATE_NO_UUID,
    has_uuid: false,
    lock_aggregate_by_name: &LOCK_AGGREGATE_BY_NAME_NO_UUID,
    ..MAIN
};

pub const API_INSERT_AGGREGATE: Q = portable!("sync_api_insert_aggregate");
pub const API_INSERT_AGGREGATE_METADATA: Q = portable!("sync_api_insert_aggregate_metadata");
pub const API_INSERT_AGGREGATE_HOST: Q = portable!("sync_api_insert_aggregate_host");
pub const API_UPDATE_AGGREGATE_METADATA: Q = portable!("sync_api_update_aggregate_metadata");
pub const API_LOCK_AGGREGATE_BY_NAME: Q = per_dialect!("sync_api_lock_aggregate_by_name");
pub const API_LOCK_AGGREGATE_BY_ID: Q = per_dialect!("sync_api_lock_aggregate_by_id");
pub const API_LOCK_AGGREGATE_METADATA: Q = per_dialect!("sync_api_lock_aggregate_metadata");
pub const API_LOCK_AGGREGATE_HOST: Q = per_dialect!("sync_api_lock_aggregate_host");
pub const API_INSERT_FLAVOR: Q = portable!("sync_api_insert_flavor");
pub const API_INSERT_FLAVOR_NEW_ID: Q = portable!("sync_api_insert_flavor_new_id");
pub const API_INSERT_FLAVOR_EXTRA_SPEC: Q = portable!("sync_api_insert_flavor_extra_spec");
pub const API_UPDATE_FLAVOR_EXTRA_SPEC: Q = portable!("sync_api_update_flavor_extra_spec");
pub const API_LOCK_FLAVOR_CLASH: Q = per_dialect!("sync_api_lock_flavor_clash");
pub const API_LOCK_FLAVOR_ID: Q = per_dialect!("sync_api_lock_flavor_id");
pub const API_LOCK_FLAVOR_BY_ID: Q = per_dialect!("sync_api_lock_flavor_by_id");
pub const API_LOCK_FLAVOR_EXTRA_SPEC: Q = per_dialect!("sync_api_lock_flavor_extra_spec");

/// A child's own API database, Newton to Stein.
pub const API: Catalogue = Catalogue {
    aggregates: &API_AGGREGATES,
    aggregate_metadata: &API_AGGREGATE_METADATA,
    aggregate_hosts: &API_AGGREGATE_HOSTS,
    flavors: &API_FLAVORS,
    flavor_extra_specs: &API_FLAVOR_EXTRA_SPECS,
    insert_aggregate: &API_INSERT_AGGREGATE,
    has_uuid: true,
    insert_aggregate_metadata: &API_INSERT_AGGREGATE_METADATA,
    insert_aggregate_host: &API_INSERT_AGGREGATE_HOST,
    update_aggregate_metadata: &API_UPDATE_AGGREGATE_METADATA,
    lock_aggregate_by_name: &API_LOCK_AGGREGATE_BY_NAME,
    lock_aggregate_by_id: &API_LOCK_AGGREGATE_BY_ID,
    lock_aggregate_metadata: &API_LOCK_AGGREGATE_METADATA,
    lock_aggregate_host: &API_LOCK_AGGREGATE_HOST,
    lock_compute_service: None,
    insert_flavor: &API_INSERT_FLAVOR,
    insert_flavor_new_id: &API_INSERT_FLAVOR_NEW_ID,
    insert_flavor_extra_spec: &API_INSERT_FLAVOR_EXTRA_SPEC,
    update_flavor_extra_spec: &API_UPDATE_FLAVOR_EXTRA_SPEC,
    lock_flavor_clash: &API_LOCK_FLAVOR_CLASH,
    lock_flavor_id: &API_LOCK_FLAVOR_ID,
    lock_flavor_by_id: &API_LOCK_FLAVOR_BY_ID,
    lock_flavor_extra_spec: &API_LOCK_FLAVOR_EXTRA_SPEC,
};

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// The parent's aggregate timestamps, read in the audit's snapshot so a copy keeps them.
pub const PARENT_AGGREGATE_TIMES: Dataset = Dataset {
    name: "sync_parent_aggregate_times",
    variants: &[Query {
        sql: include_str!("../../queries/sync_parent_aggregate_times.sql"),
        table: "aggregates",
        columns: &["id", "created_at", "updated_at", "deleted"],
    }],
};

/// The parent's flavors with every column a copy needs.
pub const PARENT_FLAVORS: Dataset = Dataset {
    name: "sync_parent_flavors",
    variants: &[Query {
        sql: include_str!("../../queries/sync_parent_flavors.sql"),
        table: "instance_types",
        columns: &[
            "id",
            "created_at",
            "updated_at",
            "name",
            "memory_mb",
            "vcpus",
            "swap",
            "vcpu_weight",
            "flavorid",
            "rxtx_factor",
            "root_gb",
            "ephemeral_gb",
            "disabled",
            "is_public",
            "deleted",
        ],
    }],
};

/// Every flavor row of a child, to know which ids are free.
pub const CHILD_FLAVOR_IDS: Dataset = Dataset {
    name: "sync_child_flavor_ids",
    variants: &[Query {
        sql: include_str!("../../queries/sync_child_flavor_ids.sql"),
        table: "instance_types",
        columns: &["id", "flavorid", "name", "deleted"],
    }],
};

/// A bound value of a planned statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Value(Value),
    /// The id the child assigns to the row inserted by an earlier statement of the same plan, known only at apply time.
    NewId(usize),
}

impl Bind {
    pub fn text(s: impl Into<String>) -> Bind {
        Bind::Value(Value::Text(s.into()))
    }

    pub fn int(i: i64) -> Bind {
        Bind::Value(Value::Int(i))
    }

    pub fn opt_text(s: Option<String>) -> Bind {
        Bind::Value(s.map_or(Value::Null, Value::Text))
    }
}

/// One statement with its values: what the dry run prints and what apply executes.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub query: &'static Q,
    pub binds: Vec<Bind>,
}

impl Stmt {
    pub fn new(query: &'static Q, binds: Vec<Bind>) -> Stmt {
        Stmt { query, binds }
    }

    /// The values to bind, with planned ids resolved from those assigned so far.
    pub fn resolve(&self, ids: &[Option<i64>]) -> Result<Vec<Value>, String> {
        self.binds
            .iter()
            .map(|b| match b {
                Bind::Value(v) => Ok(v.clone()),
                Bind::NewId(k) => ids
                    .get(*k)
                    .copied()
                    .flatten()
                    .map(Value::Int)
                    .ok_or_else(|| {
                        format!("internal error: new id @new{} is not known yet", k + 1)
                    }),
            })
            .collect()
    }
}

/// Whether text can be printed between single quotes as it is, in every dialect and SQL mode:
/// printable ASCII only, and no backslash (MySQL reads `\` as an escape unless NO_BACKSLASH_ESCAPES
/// is set, SQLite never does, so a backslash would mean different strings to different readers).
fn plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A value as an SQL literal of `dialect`, for display only (execution always binds).
///
/// Text that is not [`plain`] is printed as hex, so no byte of data can end the literal, start a
/// line, or reach a terminal: MySQL `_utf8mb4 X'..'` (a utf8mb4 string like a bound value, read
/// the same with and without NO_BACKSLASH_ESCAPES), SQLite `CAST(X'..' AS TEXT)` (the text of
/// those UTF-8 bytes). Quotes in plain text are doubled, which both dialects and modes accept.
pub fn literal(dialect: Dialect, v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Int(i) => i.to_string(),
        // Shortest round-tripping digits; an exponent keeps huge or tiny values short, and both
        // dialects read `1.5e300` as a double.
        Value::Float(f) if f.is_finite() => {
            let a = f.abs();
            if a != 0.0 && !(1e-5..1e15).contains(&a) {
                format!("{f:e}")
            } else {
                f.to_string()
            }
        }
        Value::Float(f) => literal(dialect, &Value::Text(f.to_string())),
        Value::Text(s) if plain(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Text(s) => match dialect {
            Dialect::MySql => format!("_utf8mb4 X'{}'", hex(s.as_bytes())),
            Dialect::Sqlite => format!("CAST(X'{}' AS TEXT)", hex(s.as_bytes())),
        },
    }
}

/// Data shown inside a `--` comment: control characters (C0, DEL, C1), the Unicode line and
/// paragraph separators and the backslash are escaped, so data can neither end the comment (a
/// newline would let the rest run as SQL when the text is pasted into a client) nor drive the terminal.
pub fn comment_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (0x80..0xa0).contains(&(c as u32)) || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The name under which the dry run shows the id a planned insert will get (MySQL user variable).
pub fn new_id_label(k: usize) -> String {
    format!("@new{}", k + 1)
}

/// The SQLite temporary table that holds the ids a printed SQLite script's inserts got (SQLite has no variables).
pub const SQLITE_NEW_IDS: &str = "temp.cellaudit_new_ids";

/// How a printed statement refers to the id a planned insert got: a user variable in MySQL, a
/// subselect of [`SQLITE_NEW_IDS`] in SQLite; the statements that set them come from [`set_new_id`].
pub fn new_id_ref(dialect: Dialect, k: usize) -> String {
    match dialect {
        Dialect::MySql => new_id_label(k),
        Dialect::Sqlite => format!("(SELECT id FROM {SQLITE_NEW_IDS} WHERE slot = {})", k + 1),
    }
}

/// The printed statement that records the id the insert just printed got: `fixed` when the insert
/// gives it explicitly (LAST_INSERT_ID() only reports generated ids), else the one the database generated.
pub fn set_new_id(dialect: Dialect, k: usize, fixed: Option<i64>) -> String {
    match (dialect, fixed) {
        (Dialect::MySql, Some(id)) => format!("SET {} = {id};", new_id_label(k)),
        (Dialect::MySql, None) => format!("SET {} = LAST_INSERT_ID();", new_id_label(k)),
        (Dialect::Sqlite, Some(id)) => format!(
            "INSERT OR REPLACE INTO {SQLITE_NEW_IDS} (slot, id) VALUES ({}, {id});",
            k + 1
        ),
        (Dialect::Sqlite, None) => format!(
            "INSERT OR REPLACE INTO {SQLITE_NEW_IDS} (slot, id) VALUES ({}, last_insert_rowid());",
            k + 1
        ),
    }
}

/// Renders `sql` of `dialect` on one line with each `?` replaced by its value as a literal of that
/// dialect and each planned id by [`new_id_ref`]; comment lines are dropped.
///
/// The files in `queries/sync_*` never hold a `?` inside a literal (a unit test checks that the
/// number of `?` matches the binds), so a plain scan is exact.
pub fn render(dialect: Dialect, sql: &str, binds: &[Bind]) -> String {
    let body: Vec<&str> = sql
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect();
    let body = body.join(" ");
    let mut out = String::with_capacity(body.len() + 32);
    let mut values = binds.iter();
    for c in body.chars() {
        if c == '?' {
            match values.next() {
                Some(Bind::Value(v)) => out.push_str(&literal(dialect, v)),
                Some(Bind::NewId(k)) => out.push_str(&new_id_ref(dialect, *k)),
                None => out.push('?'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn placeholders(sql: &str) -> usize {
    sql.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| l.matches('?').count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statement with the number of values sync binds to it.
    const ALL: &[(&Q, usize)] = &[
        (&INSERT_AGGREGATE, 4),
        (&INSERT_AGGREGATE_METADATA, 4),
        (&INSERT_AGGREGATE_HOST, 3),
        (&UPDATE_AGGREGATE_METADATA, 5),
        (&LOCK_AGGREGATE_BY_NAME, 2),
        (&LOCK_AGGREGATE_BY_ID, 2),
        (&LOCK_AGGREGATE_METADATA, 2),
        (&LOCK_AGGREGATE_HOST, 2),
        (&LOCK_COMPUTE_SERVICE, 1),
        (&INSERT_FLAVOR, 14),
        (&INSERT_FLAVOR_NEW_ID, 13),
        (&INSERT_FLAVOR_EXTRA_SPEC, 4),
        (&UPDATE_FLAVOR_EXTRA_SPEC, 5),
        (&LOCK_FLAVOR_CLASH, 2),
        (&LOCK_FLAVOR_ID, 1),
        (&LOCK_FLAVOR_BY_ID, 2),
        (&LOCK_FLAVOR_EXTRA_SPEC, 2),
        (&INSERT_AGGREGATE_NO_UUID, 3),
        (&LOCK_AGGREGATE_BY_NAME_NO_UUID, 1),
        (&API_INSERT_AGGREGATE, 4),
        (&API_INSERT_AGGREGATE_METADATA, 4),
        (&API_INSERT_AGGREGATE_HOST, 3),
        (&API_UPDATE_AGGREGATE_METADATA, 5),
        (&API_LOCK_AGGREGATE_BY_NAME, 2),
        (&API_LOCK_AGGREGATE_BY_ID, 2),
        (&API_LOCK_AGGREGATE_METADATA, 2),
        (&API_LOCK_AGGREGATE_HOST, 2),
        (&API_INSERT_FLAVOR, 14),
        (&API_INSERT_FLAVOR_NEW_ID, 13),
        (&API_INSERT_FLAVOR_EXTRA_SPEC, 4),
        (&API_UPDATE_FLAVOR_EXTRA_SPEC, 5),
        (&API_LOCK_FLAVOR_CLASH, 2),
        (&API_LOCK_FLAVOR_ID, 1),
        (&API_LOCK_FLAVOR_BY_ID, 2),
        (&API_LOCK_FLAVOR_EXTRA_SPEC, 2),
    ];

    #[test]
    fn every_statement_has_as_many_placeholders_as_sync_binds() {
        for (q, n) in ALL {
            for d in [Dialect::MySql, Dialect::Sqlite] {
                assert_eq!(placeholders(q.sql(d)), *n, "{} ({d:?})", q.name);
            }
        }
        for t in TABLES {
            for d in [Dialect::MySql, Dialect::Sqlite] {
                assert_eq!(placeholders(t.row.sql(d)), 1, "{}", t.row.name);
                let body = render(d, t.row.sql(d), &[]);
                let selected = body
                    .strip_prefix("SELECT ")
                    .and_then(|b| b.split(" FROM ").next())
                    .map_or(0, |c| c.split(',').count());
                assert_eq!(t.columns.len(), selected, "{}", t.row.name);
                assert_eq!(placeholders(t.delete.sql(d)), 1, "{}", t.delete.name);
                if let Some(u) = &t.undo_update {
                    assert_eq!(placeholders(u.sql(d)), 3, "{}", u.name);
                }
                if let Some(r) = &t.refs {
                    assert!(placeholders(r.sql(d)) >= 1, "{}", r.name);
                }
            }
        }
    }

    #[test]
    fn only_locking_reads_differ_between_dialects() {
        let locking = ALL
            .iter()
            .map(|(q, _)| *q)
            .chain(TABLES.iter().map(|t| &t.row));
        for q in locking {
            let (m, s) = (
                render(Dialect::MySql, q.sql(Dialect::MySql), &[]),
                render(Dialect::Sqlite, q.sql(Dialect::Sqlite), &[]),
            );
            if m != s {
                assert_eq!(m, format!("{s} FOR UPDATE"), "{}", q.name);
            }
        }
    }

    #[test]
    fn rendering_quotes_values_and_names_new_ids() {
        let s = render(
            Dialect::MySql,
            INSERT_AGGREGATE_HOST.sql(Dialect::MySql),
            &[
                Bind::text("2024-01-01 00:00:00"),
                Bind::text("o'brien"),
                Bind::NewId(0),
            ],
        );
        assert_eq!(
            s,
            "INSERT INTO aggregate_hosts (created_at, updated_at, deleted_at, host, aggregate_id, deleted) VALUES ('2024-01-01 00:00:00', NULL, NULL, 'o''brien', @new1, 0)"
        );
    }

    #[test]
    fn literals_keep_every_byte_inside_the_literal() {
        let t = |s: &str| Value::Text(s.into());
        for d in [Dialect::MySql, Dialect::Sqlite] {
            assert_eq!(literal(d, &t("o'brien")), "'o''brien'");
            assert_eq!(literal(d, &t("")), "''");
            assert_eq!(literal(d, &Value::Null), "NULL");
            assert_eq!(literal(d, &Value::Int(-3)), "-3");
            assert_eq!(literal(d, &Value::Float(1.5)), "1.5");
            assert_eq!(literal(d, &Value::Float(1e300)), "1e300");
        }
        let hostile = "\x01x\nDROP TABLE victim; -- ";
        assert_eq!(
            literal(Dialect::MySql, &t(hostile)),
            "_utf8mb4 X'01780A44524F50205441424C452076696374696D3B202D2D20'"
        );
        assert_eq!(
            literal(Dialect::Sqlite, &t(hostile)),
            "CAST(X'01780A44524F50205441424C452076696374696D3B202D2D20' AS TEXT)"
        );
        // A backslash means different strings to MySQL with and without NO_BACKSLASH_ESCAPES, and
        // SQLite never escapes: printed as hex, never doubled.
        assert_eq!(
            literal(Dialect::Sqlite, &t("a\\b")),
            "CAST(X'615C62' AS TEXT)"
        );
        assert_eq!(literal(Dialect::MySql, &t("a\\b")), "_utf8mb4 X'615C62'");
        assert_eq!(literal(Dialect::MySql, &t("é")), "_utf8mb4 X'C3A9'");
    }

    #[test]
    fn comments_show_control_characters_escaped() {
        assert_eq!(
            comment_text("\x01x\nDROP TABLE victim; -- \u{1b}[2J\r\u{85}\u{2028}\\"),
            "\\x01x\\nDROP TABLE victim; -- \\x1b[2J\\r\\u{85}\\u{2028}\\\\"
        );
        assert_eq!(comment_text("az-west 'é'"), "az-west 'é'");
    }

    #[test]
    fn new_ids_are_variables_in_mysql_and_a_temporary_table_in_sqlite() {
        assert_eq!(
            set_new_id(Dialect::MySql, 0, None),
            "SET @new1 = LAST_INSERT_ID();"
        );
        assert_eq!(set_new_id(Dialect::MySql, 2, Some(8)), "SET @new3 = 8;");
        assert_eq!(
            render(
                Dialect::Sqlite,
                INSERT_AGGREGATE_HOST.sql(Dialect::Sqlite),
                &[Bind::text("t"), Bind::text("h"), Bind::NewId(1)]
            ),
            "INSERT INTO aggregate_hosts (created_at, updated_at, deleted_at, host, aggregate_id, deleted) VALUES ('t', NULL, NULL, 'h', (SELECT id FROM temp.cellaudit_new_ids WHERE slot = 2), 0)"
        );
    }
}
