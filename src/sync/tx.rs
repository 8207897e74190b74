//! One write transaction on one cell database: bound statements in, rows and new ids out; it knows nothing of plans.

use crate::db::{
    Dialect, Pool, Row, Timeouts, Value, bind_values, describe, limited, mysql_row, sqlite_row,
};
use crate::dburl::DbUrl;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, MySql, SqliteConnection};

enum Conn {
    MySql(PoolConnection<MySql>, Pool),
    Sqlite(SqliteConnection),
}

/// An open write transaction; dropping it without `commit` leaves the server to roll it back.
pub struct Tx {
    conn: Conn,
    timeouts: Timeouts,
}

/// What one executed statement did.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    pub rows: u64,
    /// The id the database assigned to the inserted row (LAST_INSERT_ID() / last_insert_rowid()).
    pub last_id: i64,
}

impl Tx {
    /// Connects for writing and opens the transaction: MySQL `START TRANSACTION`, SQLite `BEGIN IMMEDIATE`
    /// (which takes the write lock at once, so the re-checks that follow see what the writes will see).
    pub async fn begin(url: &DbUrl, timeouts: Timeouts) -> Result<Tx, String> {
        let conn = match url {
            DbUrl::MySql(_) => {
                let pool = Pool::connect(url, timeouts).await?;
                let Pool::MySql(p) = &pool else {
                    return Err("internal error: a MySQL URL gave another pool".into());
                };
                let mut c = p.acquire().await.map_err(|e| describe(&e))?;
                sqlx::raw_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .execute(&mut *c)
                    .await
                    .map_err(|e| describe(&e))?;
                sqlx::raw_sql("START TRANSACTION")
                    .execute(&mut *c)
                    .await
                    .map_err(|e| describe(&e))?;
                Conn::MySql(c, pool)
            }
            DbUrl::Sqlite { path } => {
                if !path.exists() {
                    return Err(format!("SQLite file {} does not exist", path.display()));
                }
                let mut c = SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(timeouts.connect)
                    .foreign_keys(true)
                    .connect()
                    .await
                    .map_err(|e| describe(&e))?;
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut c)
                    .await
                    .map_err(|e| describe(&e))?;
                Conn::Sqlite(c)
            }
        };
        Ok(Tx { conn, timeouts })
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::MySql(..) => Dialect::MySql,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs a query from `queries/` (never user text) with bound values and returns all its rows.
    pub async fn fetch(&mut self, sql: &'static str, values: &[Value]) -> Result<Vec<Row>, String> {
        let limit = self.timeouts.statement;
        match &mut self.conn {
            Conn::MySql(c, _) => {
                limited(limit, async {
                    bind_values(sqlx::query(sql), values)
                        .fetch_all(&mut **c)
                        .await
                        .map(|rows| rows.iter().map(mysql_row).collect())
                        .map_err(|e| describe(&e))
                })
                .await
            }
            Conn::Sqlite(c) => {
                limited(limit, async {
                    bind_values(sqlx::query(sql), values)
                        .fetch_all(&mut *c)
                        .await
                        .map(|rows| rows.iter().map(sqlite_row).collect())
                        .map_err(|e| describe(&e))
                })
                .await
            }
        }
    }

    /// Executes a statement from `queries/` with bound values.
    pub async fn execute(&mut self, sql: &'static str, values: &[Value]) -> Result<Done, String> {
        let limit = self.timeouts.statement;
        match &mut self.conn {
            Conn::MySql(c, _) => {
                limited(limit, async {
                    bind_values(sqlx::query(sql), values)
                        .execute(&mut **c)
                        .await
                        .map(|r| Done {
                            rows: r.rows_affected(),
                            last_id: r.last_insert_id() as i64,
                        })
                        .map_err(|e| describe(&e))
                })
                .await
            }
            Conn::Sqlite(c) => {
                limited(limit, async {
                    bind_values(sqlx::query(sql), values)
                        .execute(&mut *c)
                        .await
                        .map(|r| Done {
                            rows: r.rows_affected(),
                            last_id: r.last_insert_rowid(),
                        })
                        .map_err(|e| describe(&e))
                })
                .await
            }
        }
    }

    pub async fn commit(self) -> Result<(), String> {
        let limit = self.timeouts.statement;
        match self.conn {
            Conn::MySql(mut c, pool) => {
                let r = limited(limit, async {
                    sqlx::raw_sql("COMMIT")
                        .execute(&mut *c)
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e))
                })
                .await;
                drop(c);
                pool.close().await;
                r
            }
            Conn::Sqlite(mut c) => {
                let r = limited(limit, async {
                    sqlx::raw_sql("COMMIT")
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e))
                })
                .await;
                let _ = c.close().await;
                r
            }
        }
    }

    /// Rolls back; if the connection is already gone the server has rolled back on its own.
    pub async fn rollback(self) {
        let limit = self.timeouts.statement;
        match self.conn {
            Conn::MySql(mut c, pool) => {
                let _ =
                    tokio::time::timeout(limit, sqlx::raw_sql("ROLLBACK").execute(&mut *c)).await;
                c.close_on_drop();
                drop(c);
                pool.close().await;
            }
            Conn::Sqlite(mut c) => {
                let _ =
                    tokio::time::timeout(limit, sqlx::raw_sql("ROLLBACK").execute(&mut c)).await;
                let _ = c.close().await;
            }
        }
    }
}
