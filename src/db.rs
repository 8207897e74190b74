//! The database layer: one enum over the MySQL and SQLite pools, read-only snapshot sessions and generic rows; it knows no check.

use crate::dburl::{DbUrl, TlsMode};
use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions, MySqlRow, MySqlSslMode};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{ConnectOptions, Connection, MySql, Row as _, Sqlite};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long to wait for a server, and for any one statement.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub statement: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            statement: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    MySql,
    Sqlite,
}

/// A connection pool to one cell's database.
#[derive(Clone)]
pub enum Pool {
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

/// One value of a result row, in the few shapes the checks need.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Text(s) => Some(s.clone()),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) => Some(*f as i64),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Null => None,
        }
    }

    /// Nova's soft-delete and boolean columns: any non-zero number is true.
    pub fn truthy(&self) -> bool {
        self.as_int().is_some_and(|i| i != 0)
    }
}

pub type Row = Vec<Value>;

/// Table name → column names, all lowercased, as the connected database has them.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: BTreeMap<String, BTreeSet<String>>,
    /// (table, column) → collation name, for MySQL text columns; SQLite reports none.
    pub collations: BTreeMap<(String, String), String>,
}

impl Schema {
    /// The first requirement this schema does not meet, as `table` or `table.column`.
    pub fn missing(&self, table: &str, columns: &[&str]) -> Option<String> {
        let Some(cols) = self.tables.get(table) else {
            return Some(format!("table `{table}` is missing"));
        };
        columns
            .iter()
            .find(|c| !cols.contains(**c))
            .map(|c| format!("column `{table}.{c}` is missing"))
    }

    /// How `table.column` compares text (exact when unknown, as in SQLite).
    pub fn collation(&self, table: &str, column: &str) -> crate::collation::Collation {
        crate::collation::Collation::from_name(
            self.collations
                .get(&(table.to_string(), column.to_string()))
                .map(String::as_str),
        )
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }
}

/// A one-line description of a driver error, for operators (callers scrub secrets from it).
pub fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => match d.code() {
            Some(code) => format!("server error {code}: {}", d.message()),
            None => format!("server error: {}", d.message()),
        },
        sqlx::Error::Io(io) => format!("cannot reach the server: {io}"),
        sqlx::Error::Tls(t) => format!("TLS error: {t}"),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_string(),
        other => other.to_string().replace('\n', " "),
    }
}

/// Runs `work` within `limit`, so a hung server costs one statement timeout, not the whole run.
pub(crate) async fn limited<T>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("statement timed out after {}s", limit.as_secs())),
    }
}

/// Binds `values` in order to the `?` placeholders of `q`, whichever the database.
pub(crate) fn bind_values<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, DB::Arguments>,
    values: &'q [Value],
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> f64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'q str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    for v in values {
        q = match v {
            Value::Null => q.bind(None::<String>),
            Value::Int(i) => q.bind(*i),
            Value::Float(f) => q.bind(*f),
            Value::Text(s) => q.bind(s.as_str()),
        };
    }
    q
}

impl Pool {
    pub async fn connect(url: &DbUrl, timeouts: Timeouts) -> Result<Pool, String> {
        let attempt = async {
            match url {
                DbUrl::MySql(t) => {
                    let mut o = MySqlConnectOptions::new()
                        .username(&t.user)
                        .database(&t.database)
                        // Nova's schemas are utf8mb3; a utf8mb4 connection reads them losslessly.
                        .charset("utf8mb4")
                        .pipes_as_concat(false);
                    o = match &t.socket {
                        Some(s) => o.socket(s),
                        None => o.host(&t.host).port(t.port),
                    };
                    if let Some(p) = &t.password {
                        o = o.password(p.expose());
                    }
                    // Any ssl_* option in the URL means TLS is required (dburl::TlsMode): never a silent
                    // fallback to plaintext, which sqlx's default (Preferred) would allow.
                    o = o.ssl_mode(match t.tls {
                        TlsMode::Preferred => MySqlSslMode::Preferred,
                        TlsMode::Required => MySqlSslMode::Required,
                        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
                        TlsMode::VerifyIdentity => MySqlSslMode::VerifyIdentity,
                    });
                    if let Some(ca) = &t.ssl_ca {
                        o = o.ssl_ca(ca);
                    }
                    if let Some(c) = &t.ssl_cert {
                        o = o.ssl_client_cert(c);
                    }
                    if let Some(k) = &t.ssl_key {
                        o = o.ssl_client_key(k);
                    }
                    // One direct connection first: the pool would retry until its timeout and report only
                    // "timed out", hiding the cause (refused, unknown host, access denied).
                    let probe = o.connect().await?;
                    let _ = probe.close().await;
                    Ok(Pool::MySql(
                        MySqlPoolOptions::new()
                            .max_connections(2)
                            .acquire_timeout(timeouts.connect)
                            .connect_lazy_with(o),
                    ))
                }
                DbUrl::Sqlite { path } => {
                    if !path.exists() {
                        return Err(sqlx::Error::Configuration(
                            format!("SQLite file {} does not exist", path.display()).into(),
                        ));
                    }
                    let o = SqliteConnectOptions::new()
                        .filename(path)
                        .read_only(true)
                        .busy_timeout(timeouts.connect);
                    SqlitePoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(timeouts.connect)
                        .connect_with(o)
                        .await
                        .map(Pool::Sqlite)
                }
            }
        };
        match tokio::time::timeout(timeouts.connect, attempt).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err(format!(
                "no answer within {}s (connect timeout)",
                timeouts.connect.as_secs()
            )),
        }
    }

    /// Opens a read-only transaction whose reads all see one consistent point in time.
    pub async fn snapshot(&self, timeouts: Timeouts) -> Result<Session, String> {
        match self {
            Pool::MySql(p) => {
                let mut c = p.acquire().await.map_err(|e| describe(&e))?;
                let secs = timeouts.statement.as_secs_f64();
                // MariaDB and MySQL spell the statement timeout differently; whichever the server knows applies.
                let maria = sqlx::query(include_str!("../queries/session_timeout_mariadb.sql"))
                    .bind(secs)
                    .execute(&mut *c)
                    .await;
                if maria.is_err() {
                    let _ = sqlx::query(include_str!("../queries/session_timeout_mysql.sql"))
                        .bind((secs * 1000.0) as u64)
                        .execute(&mut *c)
                        .await;
                }
                let _ = sqlx::raw_sql(include_str!("../queries/session_sort_data.sql"))
                    .execute(&mut *c)
                    .await;
                sqlx::raw_sql(include_str!("../queries/session_repeatable_read.sql"))
                    .execute(&mut *c)
                    .await
                    .map_err(|e| describe(&e))?;
                sqlx::raw_sql(include_str!("../queries/snapshot_begin.mysql.sql"))
                    .execute(&mut *c)
                    .await
                    .map_err(|e| describe(&e))?;
                Ok(Session::MySql(c, timeouts))
            }
            Pool::Sqlite(p) => {
                let mut c = p.acquire().await.map_err(|e| describe(&e))?;
                sqlx::raw_sql(include_str!("../queries/snapshot_begin.sqlite.sql"))
                    .execute(&mut *c)
                    .await
                    .map_err(|e| describe(&e))?;
                Ok(Session::Sqlite(c, timeouts))
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::MySql(p) => p.close().await,
            Pool::Sqlite(p) => p.close().await,
        }
    }
}

/// A read-only snapshot of one database; every query of one audit of that cell goes through it.
pub enum Session {
    MySql(PoolConnection<MySql>, Timeouts),
    Sqlite(PoolConnection<Sqlite>, Timeouts),
}

macro_rules! decode_value {
    ($row:expr, $i:expr) => {{
        let row = $row;
        let i = $i;
        if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map_or(Value::Null, Value::Int)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map_or(Value::Null, Value::Text)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map_or(Value::Null, Value::Float)
        } else if let Ok(v) = row.try_get::<Option<f32>, _>(i) {
            v.map_or(Value::Null, |f| Value::Float(f64::from(f)))
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            v.map_or(Value::Null, |b| Value::Int(i64::from(b)))
        } else if let Ok(v) = row.try_get::<Option<sqlx::types::chrono::NaiveDateTime>, _>(i) {
            v.map_or(Value::Null, |d| {
                Value::Text(d.format("%Y-%m-%d %H:%M:%S").to_string())
            })
        } else if let Ok(v) = row.try_get::<Option<u64>, _>(i) {
            v.map_or(Value::Null, |u| Value::Int(u as i64))
        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
            v.map_or(Value::Null, |b| {
                Value::Text(String::from_utf8_lossy(&b).into_owned())
            })
        } else {
            Value::Null
        }
    }};
}

pub(crate) fn mysql_row(row: &MySqlRow) -> Row {
    (0..row.len()).map(|i| decode_value!(row, i)).collect()
}

pub(crate) fn sqlite_row(row: &SqliteRow) -> Row {
    (0..row.len()).map(|i| decode_value!(row, i)).collect()
}

impl Session {
    pub fn dialect(&self) -> Dialect {
        match self {
            Session::MySql(..) => Dialect::MySql,
            Session::Sqlite(..) => Dialect::Sqlite,
        }
    }

    fn timeouts(&self) -> Timeouts {
        match self {
            Session::MySql(_, t) | Session::Sqlite(_, t) => *t,
        }
    }

    /// Runs one query from `queries/` (never user text) and returns all its rows.
    pub async fn fetch_all(&mut self, sql: &'static str) -> Result<Vec<Row>, String> {
        self.fetch_bound(sql, &[]).await
    }

    /// Runs one query from `queries/` with its `?` placeholders bound, in order, to text values.
    pub async fn fetch_bound(
        &mut self,
        sql: &'static str,
        binds: &[&str],
    ) -> Result<Vec<Row>, String> {
        let limit = self.timeouts().statement;
        let work = async {
            match self {
                Session::MySql(c, _) => {
                    let mut q = sqlx::query(sql);
                    for b in binds {
                        q = q.bind(*b);
                    }
                    q.fetch(&mut **c)
                        .map_ok(|r| mysql_row(&r))
                        .try_collect::<Vec<_>>()
                        .await
                        .map_err(|e| describe(&e))
                }
                Session::Sqlite(c, _) => {
                    let mut q = sqlx::query(sql);
                    for b in binds {
                        q = q.bind(*b);
                    }
                    q.fetch(&mut **c)
                        .map_ok(|r| sqlite_row(&r))
                        .try_collect::<Vec<_>>()
                        .await
                        .map_err(|e| describe(&e))
                }
            }
        };
        limited(limit, work).await
    }

    pub async fn schema(&mut self) -> Result<Schema, String> {
        let sql = match self.dialect() {
            Dialect::MySql => include_str!("../queries/schema_columns.mysql.sql"),
            Dialect::Sqlite => include_str!("../queries/schema_columns.sqlite.sql"),
        };
        let mut schema = Schema::default();
        for row in self.fetch_all(sql).await? {
            if let (Some(t), Some(c)) = (row[0].as_text(), row[1].as_text()) {
                let (t, c) = (t.to_ascii_lowercase(), c.to_ascii_lowercase());
                if let Some(coll) = row.get(2).and_then(|v| v.as_text()) {
                    schema.collations.insert((t.clone(), c.clone()), coll);
                }
                schema.tables.entry(t).or_default().insert(c);
            }
        }
        Ok(schema)
    }

    /// The schema revision, from alembic (Xena+) or sqlalchemy-migrate (older), if either table is there.
    pub async fn schema_version(&mut self, schema: &Schema) -> Option<String> {
        if schema.has_table("alembic_version") {
            let rows = self
                .fetch_all(include_str!("../queries/schema_version_alembic.sql"))
                .await
                .ok()?;
            return rows
                .first()
                .and_then(|r| r[0].as_text())
                .map(|v| format!("alembic {v}"));
        }
        if schema.has_table("migrate_version") {
            let rows = self
                .fetch_all(include_str!("../queries/schema_version_migrate.sql"))
                .await
                .ok()?;
            return rows
                .first()
                .and_then(|r| r[0].as_text())
                .map(|v| format!("migrate {v}"));
        }
        None
    }

    /// Ends the read-only transaction; nothing was written, so rolling back only releases the snapshot.
    pub async fn finish(self) {
        match self {
            Session::MySql(mut c, _) => {
                let _ = sqlx::raw_sql(include_str!("../queries/snapshot_end.sql"))
                    .execute(&mut *c)
                    .await;
            }
            Session::Sqlite(mut c, _) => {
                let _ = sqlx::raw_sql(include_str!("../queries/snapshot_end.sql"))
                    .execute(&mut *c)
                    .await;
            }
        }
    }
}

/// How to decode one column of a streamed query. Knowing the type up front avoids trying every
/// type on every value, which matters at millions of rows; a value that does not decode as its
/// kind falls back to the generic decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    /// A DATETIME read as `Value::Int` seconds since the epoch (Nova stores naive UTC).
    /// MySQL's zero date arrives as NULL through the binary protocol that prepared statements use.
    Epoch,
}

macro_rules! decode_kind {
    ($row:expr, $i:expr, $kind:expr) => {{
        let row = $row;
        let i = $i;
        let typed = match $kind {
            Kind::Int => row
                .try_get::<Option<i64>, _>(i)
                .ok()
                .map(|v| v.map_or(Value::Null, Value::Int)),
            Kind::Text => row
                .try_get::<Option<String>, _>(i)
                .ok()
                .map(|v| v.map_or(Value::Null, Value::Text)),
            Kind::Epoch => row
                .try_get::<Option<sqlx::types::chrono::NaiveDateTime>, _>(i)
                .ok()
                .map(|v| v.map_or(Value::Null, |d| Value::Int(d.and_utc().timestamp()))),
        };
        match typed {
            Some(v) => v,
            None => decode_value!(row, i),
        }
    }};
}

fn mysql_typed(row: &MySqlRow, kinds: &[Kind]) -> Row {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| decode_kind!(row, i, *k))
        .collect()
}

fn sqlite_typed(row: &SqliteRow, kinds: &[Kind]) -> Row {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| decode_kind!(row, i, *k))
        .collect()
}

/// Rows of one query arriving in batches from the task that reads and decodes them.
pub struct RowStream {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<Row>, String>>,
    task: tokio::task::JoinHandle<Option<Session>>,
}

impl RowStream {
    /// The next batch; `None` once the query has returned every row (or failed, after the error).
    pub async fn next_batch(&mut self) -> Option<Result<Vec<Row>, String>> {
        self.rx.recv().await
    }

    /// Stops reading if it has not ended and gives the session back when its query ran to the end.
    /// A session whose query was abandoned midway is closed instead, since draining the rest of a
    /// large result would only waste the server's time.
    pub async fn finish(self) -> Option<Session> {
        drop(self.rx);
        self.task.await.ok().flatten()
    }
}

async fn pump<R, F>(
    rows: impl futures::Stream<Item = Result<R, sqlx::Error>>,
    decode: F,
    batch: usize,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<Row>, String>>,
) -> Result<(), bool>
where
    F: Fn(&R) -> Row,
{
    futures::pin_mut!(rows);
    let mut buf = Vec::with_capacity(batch);
    loop {
        match rows.try_next().await {
            Ok(Some(r)) => {
                buf.push(decode(&r));
                if buf.len() == batch {
                    let full = std::mem::replace(&mut buf, Vec::with_capacity(batch));
                    tx.send(Ok(full)).await.map_err(|_| false)?;
                }
            }
            Ok(None) => {
                if !buf.is_empty() {
                    tx.send(Ok(buf)).await.map_err(|_| false)?;
                }
                return Ok(());
            }
            Err(e) => {
                let _ = tx.send(Err(describe(&e))).await;
                return Err(true);
            }
        }
    }
}

impl Session {
    /// Runs one query from `queries/` in a task of its own that decodes rows by `kinds` and hands
    /// them over in batches of `batch` through a channel holding at most `depth` batches, so memory
    /// stays bounded whatever the result's size and decoding runs beside the consumer's work.
    /// The session travels with the task and comes back through [`RowStream::finish`].
    pub fn stream(
        self,
        sql: &'static str,
        kinds: &'static [Kind],
        batch: usize,
        depth: usize,
    ) -> RowStream {
        let (tx, rx) = tokio::sync::mpsc::channel(depth.max(1));
        let batch = batch.max(1);
        let task = tokio::spawn(async move {
            let mut session = self;
            let limit = session.timeouts().statement;
            let work = async {
                match &mut session {
                    Session::MySql(c, _) => {
                        pump(
                            sqlx::query(sql).fetch(&mut **c),
                            |r| mysql_typed(r, kinds),
                            batch,
                            &tx,
                        )
                        .await
                    }
                    Session::Sqlite(c, _) => {
                        pump(
                            sqlx::query(sql).fetch(&mut **c),
                            |r| sqlite_typed(r, kinds),
                            batch,
                            &tx,
                        )
                        .await
                    }
                }
            };
            let ended = match tokio::time::timeout(limit, work).await {
                Ok(r) => r,
                Err(_) => {
                    let _ = tx
                        .send(Err(format!(
                            "statement timed out after {}s",
                            limit.as_secs()
                        )))
                        .await;
                    Err(true)
                }
            };
            match ended {
                Ok(()) => Some(session),
                Err(_) => {
                    session.close().await;
                    None
                }
            }
        });
        RowStream { rx, task }
    }

    /// Runs one query from `queries/` with its `?` placeholders bound, in order, to text values, and
    /// decodes its rows by `kinds` as [`Session::stream`] does, so they equal streamed rows.
    pub async fn fetch_bound_typed(
        &mut self,
        sql: &'static str,
        binds: &[&str],
        kinds: &[Kind],
    ) -> Result<Vec<Row>, String> {
        let limit = self.timeouts().statement;
        let work = async {
            match self {
                Session::MySql(c, _) => {
                    let mut q = sqlx::query(sql);
                    for b in binds {
                        q = q.bind(b.to_string());
                    }
                    q.fetch(&mut **c)
                        .map_ok(|r| mysql_typed(&r, kinds))
                        .try_collect::<Vec<_>>()
                        .await
                        .map_err(|e| describe(&e))
                }
                Session::Sqlite(c, _) => {
                    let mut q = sqlx::query(sql);
                    for b in binds {
                        q = q.bind(b.to_string());
                    }
                    q.fetch(&mut **c)
                        .map_ok(|r| sqlite_typed(&r, kinds))
                        .try_collect::<Vec<_>>()
                        .await
                        .map_err(|e| describe(&e))
                }
            }
        };
        limited(limit, work).await
    }

    /// Drops the connection instead of returning it to the pool (its protocol state is unknown).
    async fn close(self) {
        match self {
            Session::MySql(c, _) => {
                let _ = c.close().await;
            }
            Session::Sqlite(c, _) => {
                let _ = c.close().await;
            }
        }
    }
}
