//! Checks the test harness in `tests/common` itself: private MariaDB servers, databases, SQL
//! loading, killing a server, and SQLite fixtures, all read back through sqlx as cellaudit will.

mod common;

use std::io::ErrorKind;
use std::path::Path;

use common::{MariaDb, db_name, sqlite_db};
use sqlx::Connection;

#[tokio::test]
async fn shared_server_round_trips_utf8mb3_bin_text_through_sqlx() {
    let server = MariaDb::shared();
    let url = server.create_database("selftest");
    server.exec(
        &url,
        "CREATE TABLE t (x varchar(10) COLLATE utf8mb3_bin);
         INSERT INTO t VALUES ('abc'), ('Grüße €');",
    );

    let pool = sqlx::MySqlPool::connect(&url).await.expect("connect");
    let rows = sqlx::query_as::<_, (String,)>("SELECT x FROM t ORDER BY x")
        .fetch_all(&pool)
        .await
        .expect("select");
    // Binary collation: 'G' (0x47) sorts before 'a' (0x61).
    assert_eq!(rows, vec![("Grüße €".to_string(),), ("abc".to_string(),)]);

    let charset =
        sqlx::query_as::<_, (String, String)>("SELECT @@character_set_server, @@collation_server")
            .fetch_one(&pool)
            .await
            .expect("select charset");
    assert_eq!(
        charset,
        ("utf8mb4".to_string(), "utf8mb4_general_ci".to_string())
    );
    pool.close().await;

    assert_eq!(
        server.query(
            &url,
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'"
        ),
        "utf8mb3_bin\n"
    );
}

#[test]
fn create_database_makes_distinct_databases_for_the_same_name() {
    let server = MariaDb::shared();
    let a = server.create_database("twice");
    let b = server.create_database("twice");
    assert_ne!(a, b);
    let (name_a, name_b) = (db_name(&a), db_name(&b));
    assert!(name_a.starts_with("twice_"), "{name_a}");
    assert!(name_b.starts_with("twice_"), "{name_b}");
    assert_eq!(
        a,
        format!(
            "mysql://root@localhost/{name_a}?socket={}",
            server.socket().display()
        )
    );

    let mut expected = [name_a, name_b];
    expected.sort();
    let listed = server.query("mysql", r"SHOW DATABASES LIKE 'twice\_%'");
    assert_eq!(listed, format!("{}\n{}\n", expected[0], expected[1]));
}

#[test]
fn load_sql_file_accepts_a_mariadb_dump() {
    let server = MariaDb::shared();
    let url = server.create_database("dump");
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("dump.sql");
    // Recent mariadb-dump output starts with this line, which only MariaDB's client understands.
    std::fs::write(
        &dump,
        "/*M!999999\\- enable the sandbox mode */ \n\
         CREATE TABLE `cells` (`id` int NOT NULL, `name` varchar(255) DEFAULT NULL, PRIMARY KEY (`id`))\n\
         ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;\n\
         INSERT INTO `cells` (`id`, `name`) VALUES (1,'cell1');\n\
         INSERT INTO `cells` (`id`, `name`) VALUES (2,NULL);\n",
    )
    .expect("write dump");
    server.load_sql_file(&url, &dump);
    assert_eq!(
        server.query(&url, "SELECT id, name FROM cells ORDER BY id"),
        "1\tcell1\n2\tNULL\n"
    );
}

#[tokio::test]
async fn killed_private_server_fails_open_and_new_connections() {
    let mut server = MariaDb::start_private();
    eprintln!("private MariaDB ready in {:?}", server.startup_time());
    let url = server.create_database("cell1");
    let mut conn = sqlx::MySqlConnection::connect(&url)
        .await
        .expect("connect before kill");
    let one = sqlx::query_as::<_, (i64,)>("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("select before kill");
    assert_eq!(one, (1,));

    server.kill();
    assert!(!server.is_running());

    let after = sqlx::query_as::<_, (i64,)>("SELECT 1")
        .fetch_one(&mut conn)
        .await;
    // The kernel reports the dead peer as a reset or an EOF depending on timing.
    match after {
        Err(sqlx::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe
            ),
            "{e:?}"
        ),
        other => panic!("expected an I/O error from the killed server, got {other:?}"),
    }

    match sqlx::MySqlConnection::connect(&url).await {
        Err(sqlx::Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        Err(other) => panic!("expected connection refused, got {other:?}"),
        Ok(_) => panic!("connected to a killed server"),
    }
}

#[test]
fn dropping_a_private_server_stops_it_and_removes_its_files() {
    let server = MariaDb::start_private();
    eprintln!("private MariaDB ready in {:?}", server.startup_time());
    let pid = server.pid();
    let dir = server.dir().to_path_buf();
    assert!(server.is_running());
    assert!(dir.join("data").is_dir());

    drop(server);

    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "mariadbd {pid} still exists"
    );
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[tokio::test]
async fn sqlite_db_builds_a_file_from_sql_files_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = dir.path().join("schema.sql");
    let rows = dir.path().join("rows.sql");
    std::fs::write(
        &schema,
        "CREATE TABLE cell_mappings (id INTEGER PRIMARY KEY, name VARCHAR(255));\n\
         CREATE TABLE host_mappings (id INTEGER PRIMARY KEY, host VARCHAR(255));\n",
    )
    .expect("write schema");
    std::fs::write(
        &rows,
        "INSERT INTO cell_mappings VALUES (1, 'cell0');\n\
         INSERT INTO cell_mappings VALUES (2, 'cell1');\n",
    )
    .expect("write rows");

    let url = sqlite_db(dir.path(), "api.db", &[&schema, &rows]);
    assert_eq!(
        url,
        format!("sqlite://{}", dir.path().join("api.db").display())
    );
    // One self-contained file: no WAL or journal left beside it.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api.db", "rows.sql", "schema.sql"]);

    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    let cells =
        sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM cell_mappings ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("select");
    assert_eq!(
        cells,
        vec![(1, "cell0".to_string()), (2, "cell1".to_string())]
    );
    pool.close().await;
}
