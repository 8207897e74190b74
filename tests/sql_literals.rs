//! Property test of the SQL literal printer: any text (control characters, quotes, backslashes,
//! NUL, any Unicode) and any finite float printed by `sync::sql::literal` reads back exactly on a
//! real MariaDB, with and without NO_BACKSLASH_ESCAPES, and on SQLite.
//!
//! Bounded for CI (256 cases by default, a few seconds); `CELLAUDIT_PROPTEST_CASES=N` runs longer.

mod common;

use cellaudit::db::{Dialect, Value};
use cellaudit::sync::sql::literal;
use common::MariaDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::{Connection, MySqlConnection, Row, SqliteConnection};

fn cases() -> u32 {
    std::env::var("CELLAUDIT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Text that leans on the characters that break printers, mixed with any Unicode.
fn text() -> impl Strategy<Value = String> {
    let nasty = prop::sample::select(vec![
        '\\', '\'', '"', '`', '\n', '\r', '\t', '\0', '\x1a', '\x1b', '\x7f', ';', '-', '#', '/',
        '*', '%', '_', '?', '@', 'é', '\u{85}', '\u{a0}', '\u{2028}', '\u{202e}', '\u{feff}',
        '\u{fffd}', '😀',
    ]);
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            nasty,
            "[ -~]".prop_map(|s: String| s.chars().next().unwrap_or(' '))
        ],
        0..48,
    )
    .prop_map(String::from_iter)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}

struct Dbs {
    mysql: MySqlConnection,
    mysql_nbe: MySqlConnection,
    sqlite: SqliteConnection,
}

async fn connect(url: &str) -> Dbs {
    let mysql = MySqlConnection::connect(url).await.unwrap();
    let mut mysql_nbe = MySqlConnection::connect(url).await.unwrap();
    sqlx::raw_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .execute(&mut mysql_nbe)
        .await
        .unwrap();
    let sqlite = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    Dbs {
        mysql,
        mysql_nbe,
        sqlite,
    }
}

/// The bytes each database reads from the printed literal, as hex.
async fn read_back(dbs: &mut Dbs, v: &Value) -> [String; 3] {
    let m = format!("SELECT HEX({})", literal(Dialect::MySql, v));
    let s = format!("SELECT hex({})", literal(Dialect::Sqlite, v));
    let a: String = sqlx::raw_sql(sqlx::AssertSqlSafe(m.clone()))
        .fetch_one(&mut dbs.mysql)
        .await
        .unwrap_or_else(|e| panic!("{m}: {e}"))
        .get(0);
    let b: String = sqlx::raw_sql(sqlx::AssertSqlSafe(m.clone()))
        .fetch_one(&mut dbs.mysql_nbe)
        .await
        .unwrap_or_else(|e| panic!("{m} (NO_BACKSLASH_ESCAPES): {e}"))
        .get(0);
    let c: String = sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
        .fetch_one(&mut dbs.sqlite)
        .await
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .get(0);
    [a, b, c]
}

#[test]
fn printed_text_literals_read_back_byte_for_byte() {
    let server = MariaDb::shared();
    let url = server.create_database("literals");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dbs = std::cell::RefCell::new(rt.block_on(connect(&url)));
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&text(), |s| {
            let want = hex(s.as_bytes());
            let got = rt.block_on(read_back(&mut dbs.borrow_mut(), &Value::Text(s.clone())));
            for (db, g) in ["MariaDB", "MariaDB NO_BACKSLASH_ESCAPES", "SQLite"]
                .iter()
                .zip(&got)
            {
                prop_assert_eq!(g, &want, "{} read {:?} back differently", db, s);
            }
            Ok(())
        })
        .unwrap();
    eprintln!("{} text cases in {:?}", cases(), started.elapsed());
}

#[test]
fn printed_numbers_read_back_exactly() {
    let server = MariaDb::shared();
    let url = server.create_database("literals_num");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dbs = std::cell::RefCell::new(rt.block_on(connect(&url)));
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let num = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        // Printed as plain decimals, which both read exactly; beyond this range the printer uses
        // an exponent, which SQLite may read one unit in the last place off (README says so).
        (-1e15f64..1e15).prop_map(Value::Float),
        (1e-5f64..1.0).prop_map(Value::Float),
        (-1e6f64..1e6).prop_map(|f| Value::Float((f * 100.0).round() / 100.0)),
    ];
    runner
        .run(&num, |v| {
            let mut guard = dbs.borrow_mut();
            let dbs = &mut *guard;
            // Compared in the database against the exact bound value: a double's text form on the
            // wire may be shortened, the comparison is not.
            let (bound, is_int) = match &v {
                Value::Int(i) => (*i as f64, true),
                Value::Float(f) => (*f, false),
                _ => unreachable!(),
            };
            let same = rt.block_on(async {
                let mut out = Vec::new();
                for (db, conn) in [
                    ("MariaDB", &mut dbs.mysql),
                    ("MariaDB NO_BACKSLASH_ESCAPES", &mut dbs.mysql_nbe),
                ] {
                    let lit = literal(Dialect::MySql, &v);
                    let sql = if is_int {
                        format!("SELECT CAST({lit} AS CHAR) = CAST(? AS CHAR)")
                    } else {
                        format!("SELECT CAST({lit} AS DOUBLE) = ?")
                    };
                    let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()));
                    let q = match &v {
                        Value::Int(i) => q.bind(*i),
                        _ => q.bind(bound),
                    };
                    let r = q
                        .fetch_one(conn)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    out.push((db, r == 1, sql));
                }
                let lit = literal(Dialect::Sqlite, &v);
                let sql = if is_int {
                    format!("SELECT {lit} = ?")
                } else {
                    format!("SELECT CAST({lit} AS REAL) = ?")
                };
                let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()));
                let q = match &v {
                    Value::Int(i) => q.bind(*i),
                    _ => q.bind(bound),
                };
                let r = q
                    .fetch_one(&mut dbs.sqlite)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                out.push(("SQLite", r == 1, sql));
                out
            });
            for (db, ok, sql) in same {
                prop_assert!(ok, "{}: {} does not read back as {:?}", db, sql, v);
            }
            Ok(())
        })
        .unwrap();
}
