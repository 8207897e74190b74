//! Test harness shared by the integration tests: private MariaDB servers and SQLite fixture files.
//!
//! Each test binary that includes this module (`mod common;`) gets one lazily started, private
//! `mariadbd` ([`MariaDb::shared`]) listening only on a unix socket in its own temporary directory,
//! so tests never touch a system MariaDB and parallel test binaries never share state. Tests that
//! need to kill a server mid-run take an isolated one with [`MariaDb::start_private`].
//!
//! The MariaDB binaries must be installed (`scripts/test.sh` installs them on Debian); nothing here
//! needs the `sqlite3` CLI.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections before the harness gives up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Watchdog run by `sh -c` between the test process and `mariadbd`.
///
/// Why a watchdog: the shared server lives in a `static`, whose destructor never runs, and a test
/// process can also die from a panic in another thread, SIGKILL or Ctrl-C. `PR_SET_PDEATHSIG` would
/// need `libc`, which we do not depend on. Instead a reader blocks on the watchdog's stdin, a pipe
/// whose only writer is the test process (Rust opens pipes close-on-exec, so no other child
/// inherits it). The kernel closes that pipe however the test process ends, the `read` sees EOF,
/// and the server gets SIGKILL. SIGKILL rather than SIGTERM because the data is thrown away at
/// once, and a clean shutdown could hang the test's `Drop`. INT and HUP are ignored so that Ctrl-C
/// kills the test process (closing the pipe) and not the watchdog alone, which would orphan the
/// server (background jobs of `sh` ignore SIGINT); PIPE likewise, because a test process that dies
/// before reading the pid line would otherwise kill the watchdog with its `echo`.
///
/// The file `exited` appears once `wait` has reaped the server. That, not `/proc/PID`, is how the
/// harness knows the server is gone: a killed multi-threaded server shows its main thread as a
/// zombie while other threads still hold the listening socket open.
///
/// The watchdog also creates the server's directory, so that no moment exists at which the test
/// process owns a directory nobody would delete if it died.
///
/// `$1` is the parent for the new directory, `$2` the template data directory to copy, the rest the
/// server's command line without its per-directory options. The first line of stdout is
/// `PID DIR`, or `error: ...`.
const WATCHDOG: &str = r#"
trap '' INT HUP PIPE
parent=$1
template=$2
shift 2
fail() {
    printf 'error: %s\n' "$(printf '%s' "$*" | tr '\n' ' ')"
    exit 1
}
dir=$(mktemp -d "$parent/cellaudit-mariadb-XXXXXX" 2>&1) || fail "mktemp in $parent: $dir"
if ! err=$(cp -a "$template" "$dir/data" 2>&1); then
    rm -rf "$dir"
    fail "cp -a $template $dir/data: $err"
fi
exec 3<&0
"$@" --datadir="$dir/data" --tmpdir="$dir" --socket="$dir/sock" --pid-file="$dir/pid" \
    --log-error="$dir/error.log" </dev/null 3<&- >>"$dir/mariadbd.out" 2>&1 &
pid=$!
echo "$pid $dir"
( read -r _ignored <&3 || :; [ -e "$dir/exited" ] || kill -KILL "$pid" 2>/dev/null ) &
reader=$!
exec 3<&-
wait "$pid"
: >"$dir/exited"
wait "$reader"
rm -rf "$dir"
"#;

static SHARED: OnceLock<MariaDb> = OnceLock::new();
static DB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A private `mariadbd` reachable only through a unix socket, as MariaDB's `root` with no password.
pub struct MariaDb {
    dir: PathBuf,
    socket: PathBuf,
    pid: u32,
    watchdog: Child,
    /// Closing this makes the watchdog kill the server; `None` once dropped.
    watchdog_stdin: Option<ChildStdin>,
    client_binary: PathBuf,
    startup: Duration,
}

impl MariaDb {
    /// The server shared by all tests of this test binary, started on first use.
    ///
    /// Give each test its own database ([`MariaDb::create_database`]); never kill this one.
    pub fn shared() -> &'static MariaDb {
        SHARED.get_or_init(MariaDb::start_private)
    }

    /// Starts a new server that belongs to the caller alone; dropping it stops it and deletes its
    /// files. Takes well under a second once the template data directory exists.
    pub fn start_private() -> MariaDb {
        let started = Instant::now();
        // Everything that spawns a process comes before the temp dir exists: a test process killed
        // between creating the directory and handing it to the watchdog would leave it behind.
        let template = template_datadir();
        let root = is_root();
        let server_binary = find_binary(&["mariadbd", "mysqld"]);
        let client_binary = find_binary(&["mariadb", "mysql"]);

        let mut server_args: Vec<String> = vec![
            server_binary.display().to_string(),
            "--no-defaults".into(),
            "--skip-networking".into(),
            // Without these the server defaults to latin1.
            "--character-set-server=utf8mb4".into(),
            "--collation-server=utf8mb4_general_ci".into(),
            "--innodb-buffer-pool-size=64M".into(),
            "--innodb-log-file-size=8M".into(),
            "--skip-log-bin".into(),
            // Durability is pointless for throwaway data; these only make writes cheaper.
            // `loose-` keeps older or newer servers that lack an option from refusing to start.
            "--loose-innodb-doublewrite=0".into(),
            "--loose-innodb-flush-log-at-trx-commit=0".into(),
            // Many parallel servers can exhaust the kernel's aio contexts (fs.aio-max-nr).
            "--loose-innodb-use-native-aio=0".into(),
            "--loose-performance-schema=OFF".into(),
        ];
        if root {
            // As root, mariadbd refuses to start without it; as anyone else it only warns.
            server_args.push("--user=root".into());
        }

        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("cellaudit-mariadb-watchdog")
            .arg(socket_parent())
            .arg(&template)
            .args(&server_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn sh for mariadbd: {e}"));
        let watchdog_stdin = watchdog.stdin.take();
        let mut line = String::new();
        BufReader::new(watchdog.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("reading mariadbd's pid from the watchdog");
        let line = line.trim_end_matches('\n');
        if let Some(err) = line.strip_prefix("error: ") {
            let _ = watchdog.wait();
            panic!("starting mariadbd failed: {err}");
        }
        let (pid, dir) = line
            .split_once(' ')
            .and_then(|(pid, dir)| Some((pid.parse::<u32>().ok()?, PathBuf::from(dir))))
            .unwrap_or_else(|| panic!("watchdog printed {line:?} instead of `PID DIR`"));
        let socket = dir.join("sock");

        let mut server = MariaDb {
            dir,
            socket,
            pid,
            watchdog,
            watchdog_stdin,
            client_binary,
            startup: Duration::ZERO,
        };
        server.wait_until_ready(started);
        server.startup = started.elapsed();
        server
    }

    fn wait_until_ready(&self, started: Instant) {
        loop {
            if !self.is_running() {
                panic!(
                    "mariadbd (pid {}) exited during startup; error log {}:\n{}",
                    self.pid,
                    self.error_log_path().display(),
                    self.error_log()
                );
            }
            if self.socket.exists() {
                let probe = self
                    .client_command(None)
                    .args(["--connect-timeout=2", "-e", "SELECT 1"])
                    .stdin(Stdio::null())
                    .output();
                if matches!(&probe, Ok(o) if o.status.success()) {
                    return;
                }
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                panic!(
                    "mariadbd (pid {}) did not accept connections on {} within {:?}; error log {}:\n{}",
                    self.pid,
                    self.socket.display(),
                    STARTUP_TIMEOUT,
                    self.error_log_path().display(),
                    self.error_log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The server's unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The process id of `mariadbd` itself.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The temporary directory holding the data directory, socket and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Wall time from `start_private` being called until the server accepted a connection.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The sqlx URL of database `db` on this server, whether or not the database exists.
    pub fn url(&self, db: &str) -> String {
        format!(
            "mysql://root@localhost/{db}?socket={}",
            self.socket.display()
        )
    }

    /// Creates a new, empty database and returns its sqlx URL
    /// (`mysql://root@localhost/NAME_N?socket=...`).
    ///
    /// The database is named `{name}_{N}` with `N` unique in this process, so tests that run in
    /// parallel on the shared server can ask for the same `name`. Take the real name from the URL
    /// ([`db_name`]); `exec`, `query` and `load_sql_file` also accept the URL itself.
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            !name.is_empty()
                && name.len() <= 48
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database name {name:?} must be 1 to 48 ASCII letters, digits or underscores"
        );
        let db = format!("{name}_{}", DB_COUNTER.fetch_add(1, Ordering::Relaxed));
        self.exec_in(
            None,
            &format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"),
        );
        self.url(&db)
    }

    /// Runs SQL statements with the `mariadb` client in database `db` (a name or a URL from
    /// [`MariaDb::create_database`]); panics with the client's stderr if any statement fails.
    pub fn exec(&self, db: &str, sql: &str) {
        self.exec_in(Some(&db_name(db)), sql);
    }

    /// Runs a query with the `mariadb` client and returns its output in batch format: one line per
    /// row, columns separated by tabs, no header, NULL as `NULL`, special characters escaped.
    pub fn query(&self, db: &str, sql: &str) -> String {
        let db = db_name(db);
        let out = self.run_client(Some(&db), &["--batch", "--skip-column-names"], sql);
        String::from_utf8(out).expect("mariadb client output is not UTF-8")
    }

    /// Feeds an SQL file (e.g. a `mysqldump` fixture) to the `mariadb` client in database `db`.
    pub fn load_sql_file(&self, db: &str, path: &Path) {
        let db = db_name(db);
        let file = std::fs::File::open(path)
            .unwrap_or_else(|e| panic!("cannot open SQL file {}: {e}", path.display()));
        let out = self
            .client_command(Some(&db))
            .stdin(file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run the mariadb client: {e}"));
        if !out.status.success() {
            panic!(
                "loading {} into database {db} failed ({}):\n{}",
                path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Kills the server abruptly (SIGKILL), as if its host died, and waits until it is gone.
    /// Connections already open start failing; new ones are refused.
    pub fn kill(&mut self) {
        if !self.is_running() {
            return;
        }
        let status = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -KILL {} failed: {status}", self.pid);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.is_running() {
            assert!(
                Instant::now() < deadline,
                "mariadbd {} survived SIGKILL",
                self.pid
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether `mariadbd` is still alive (until its watchdog has reaped it).
    pub fn is_running(&self) -> bool {
        !self.dir.join("exited").exists()
    }

    /// The server's error log as it is now (empty if it cannot be read).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.error_log_path()).unwrap_or_default()
    }

    fn error_log_path(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    fn client_command(&self, db: Option<&str>) -> Command {
        let mut cmd = Command::new(&self.client_binary);
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["-uroot", "--default-character-set=utf8mb4"]);
        if let Some(db) = db {
            cmd.arg(db);
        }
        cmd
    }

    fn exec_in(&self, db: Option<&str>, sql: &str) {
        self.run_client(db, &[], sql);
    }

    fn run_client(&self, db: Option<&str>, extra: &[&str], sql: &str) -> Vec<u8> {
        let mut child = self
            .client_command(db)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run the mariadb client: {e}"));
        // Written from a thread so a large result cannot fill stdout and deadlock the write.
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = sql.to_owned();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child
            .wait_with_output()
            .expect("waiting for the mariadb client");
        // A client that fails early closes its stdin; its stderr says more than the broken pipe.
        let written = writer.join().expect("stdin writer thread panicked");
        if !out.status.success() {
            panic!(
                "mariadb client failed ({}) in database {}:\n{}\nSQL:\n{}",
                out.status,
                db.unwrap_or("(none)"),
                String::from_utf8_lossy(&out.stderr),
                truncate(sql, 2000)
            );
        }
        written.expect("writing SQL to the mariadb client");
        out.stdout
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // EOF on its stdin makes the watchdog kill the server and delete the directory.
        drop(self.watchdog_stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// The database name in a URL from [`MariaDb::create_database`]; a plain name is returned as is.
pub fn db_name(db_or_url: &str) -> String {
    match db_or_url.split_once("://") {
        Some((_, rest)) => {
            let path = rest.split(['?', '#']).next().unwrap_or_default();
            let name = path.split_once('/').map(|(_, n)| n).unwrap_or_default();
            assert!(!name.is_empty(), "no database name in URL {db_or_url:?}");
            name.to_string()
        }
        None => db_or_url.to_string(),
    }
}

/// Creates the SQLite database file `dir/name` from SQL files, run in order, and returns its sqlx
/// URL `sqlite://ABSOLUTE_PATH`. Panics if the file exists or any statement fails.
///
/// Synchronous and usable from both `#[test]` and `#[tokio::test]`: the work runs on its own
/// thread and runtime, because blocking on a runtime inside another one panics.
pub fn sqlite_db(dir: &Path, name: &str, files: &[&Path]) -> String {
    let path = std::path::absolute(dir.join(name)).expect("absolute SQLite path");
    assert!(
        !path.exists(),
        "SQLite database {} already exists",
        path.display()
    );
    let scripts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .unwrap_or_else(|e| panic!("cannot read SQL file {}: {e}", f.display()));
            (f.to_path_buf(), text)
        })
        .collect();
    let db_path = path.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            use sqlx::Connection;
            // A rollback journal rather than WAL, so the fixture is one self-contained file.
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&db_path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", db_path.display()));
            for (file, text) in scripts {
                sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "loading {} into {} failed: {e}",
                            file.display(),
                            db_path.display()
                        )
                    });
            }
            conn.close().await.expect("closing the SQLite database");
        });
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    format!("sqlite://{}", path.display())
}

/// A freshly initialised data directory to copy for each server, made once and cached in
/// Cargo's target tmp directory: `mariadb-install-db` takes 1 to 2 s, a copy about 0.2 s.
///
/// The cache key covers the server version, the install options and the user, so an upgraded
/// MariaDB or a different user gets a new template. Concurrent test binaries each build into a temp
/// dir and rename it into place; the loser of that race uses the winner's.
fn template_datadir() -> PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            use std::hash::{Hash, Hasher};

            let root = is_root();
            // Running as root, mariadbd refuses to start without --user; as anyone else the files
            // simply belong to the current user.
            let user = if root {
                "root".to_string()
            } else {
                current_user()
            };
            let install_args = [
                "--no-defaults".to_string(),
                format!("--user={user}"),
                // "normal" gives root@localhost an empty password. Socket authentication would
                // only admit the OS user called root, which breaks when the tests do not run as
                // root; each socket sits in a 0700 directory, so nobody else can reach it anyway.
                "--auth-root-authentication-method=normal".to_string(),
                "--skip-test-db".to_string(),
                // Passed on to the bootstrap server; the default redo log is 96 MiB.
                "--innodb-log-file-size=8M".to_string(),
                "--innodb-buffer-pool-size=64M".to_string(),
            ];
            let server = find_binary(&["mariadbd", "mysqld"]);
            let version = Command::new(&server)
                .arg("--version")
                .output()
                .unwrap_or_else(|e| panic!("cannot run {} --version: {e}", server.display()));
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (&version.stdout, &install_args, &server).hash(&mut hasher);

            // Per user, since a root-owned cache would lock other users out of the directory.
            let base = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("cellaudit-mariadb-template-{user}"));
            let cached = base.join(format!("{:016x}", hasher.finish()));
            if cached.is_dir() {
                return cached;
            }
            std::fs::create_dir_all(&base)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", base.display()));
            let work = tempfile::Builder::new()
                .prefix("building-")
                .tempdir_in(&base)
                .unwrap_or_else(|e| panic!("cannot create a temp dir in {}: {e}", base.display()));
            let data = work.path().join("data");
            let install = Command::new(find_binary(&["mariadb-install-db", "mysql_install_db"]))
                .args(&install_args)
                .arg(format!("--datadir={}", data.display()))
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("cannot run mariadb-install-db: {e}"));
            if !install.status.success() {
                panic!(
                    "mariadb-install-db failed ({}) for {}\nstdout:\n{}\nstderr:\n{}",
                    install.status,
                    data.display(),
                    String::from_utf8_lossy(&install.stdout),
                    String::from_utf8_lossy(&install.stderr)
                );
            }
            if let Err(e) = std::fs::rename(&data, &cached) {
                assert!(
                    cached.is_dir(),
                    "cannot move {} to {}: {e}",
                    data.display(),
                    cached.display()
                );
            }
            cached
        })
        .clone()
}

/// Looks a program up in `PATH`, then in the sbin/bin directories that `PATH` often lacks for
/// non-root users (Debian puts `mariadbd` only in /usr/sbin).
fn find_binary(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/usr/bin",
                "/usr/local/sbin",
                "/usr/local/bin",
                "/sbin",
                "/bin",
            ]
            .map(PathBuf::from),
        )
        .collect();
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "none of {names:?} found in PATH or /usr/sbin, /usr/bin, /usr/local/{{s,}}bin; \
         install MariaDB (scripts/test.sh does: apt-get install mariadb-server mariadb-client)"
    );
}

/// Where servers' directories go: the temp dir unless its path is so long that the socket path
/// would not fit in `sun_path` (108 bytes).
fn socket_parent() -> PathBuf {
    let tmp = std::env::temp_dir();
    if tmp.as_os_str().len() <= 60 {
        tmp
    } else {
        PathBuf::from("/tmp")
    }
}

fn is_root() -> bool {
    id(&["-u"]) == "0"
}

fn current_user() -> String {
    id(&["-un"])
}

fn id(args: &[&str]) -> String {
    let out = Command::new("id")
        .args(args)
        .output()
        .expect("cannot run id");
    assert!(out.status.success(), "id {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The crate's root, under which `fixtures/` lies.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A cells v1 fixture cell's files `fixtures/v1/{prefix}{cell}.sql`, one per prefix in that order
/// (`""` is the base rows); the `api` cell's files are named `parent`.
pub fn v1_fixtures(cell: &str, prefixes: &[&str]) -> Vec<PathBuf> {
    let file = if cell == "api" { "parent" } else { cell };
    prefixes
        .iter()
        .map(|prefix| root().join(format!("fixtures/v1/{prefix}{file}.sql")))
        .collect()
}

/// A fresh database `db` on `server` with Nova's cell schema, then `files`; returns its URL.
pub fn mariadb_cell(server: &MariaDb, db: &str, files: &[PathBuf]) -> String {
    let url = server.create_database(db);
    server.load_sql_file(&url, &root().join("fixtures/schema/main.mysql.sql"));
    for f in files {
        server.load_sql_file(&url, f);
    }
    url
}

/// `{cell}.sqlite` in `dir` with Nova's cell schema, then `files`; returns its URL.
pub fn sqlite_cell(dir: &Path, cell: &str, files: &[PathBuf]) -> String {
    let schema = root().join("fixtures/schema/main.sqlite.sql");
    let all: Vec<&Path> = std::iter::once(schema.as_path())
        .chain(files.iter().map(PathBuf::as_path))
        .collect();
    sqlite_db(dir, &format!("{cell}.sqlite"), &all)
}

/// `audit` with the cell named `api` as parent and the others as children.
pub fn v1_audit_args(cells: &[(String, String)]) -> Vec<String> {
    let mut args = vec!["audit".to_string()];
    args.extend(v1_topology(cells));
    args
}

/// `--parent` (the cell named `api`) and `--child` flags for the other cells.
pub fn v1_topology(cells: &[(String, String)]) -> Vec<String> {
    let mut args = Vec::new();
    for (name, url) in cells {
        if name == "api" {
            args.extend([
                "--parent".into(),
                url.clone(),
                "--parent-name".into(),
                "api".into(),
            ]);
        } else {
            args.extend(["--child".into(), format!("{name}={url}")]);
        }
    }
    args
}

/// What one run of the `cellaudit` binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `cellaudit` binary with no terminal on stdin and no `CELLAUDIT_CONFIG` but as `env` sets.
pub fn cellaudit_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("cellaudit").unwrap();
    cmd.args(args)
        .env_remove("CELLAUDIT_CONFIG")
        // The layout and colour of human output follow these; tests see the piped defaults.
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .write_stdin("");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

pub fn cellaudit<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    cellaudit_env(args, &[])
}

/// Runs the binary with `--format json` appended and parses its report.
pub fn json_run(mut args: Vec<String>) -> (i32, serde_json::Value) {
    args.extend(["--format".into(), "json".into()]);
    let run = cellaudit(&args);
    let doc = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    (run.code, doc)
}

/// The comparable part of each finding of a JSON report, in report order.
pub fn essentials(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            serde_json::json!({
                "check": f["check"], "kind": f["kind"], "severity": f["severity"], "cell": f["cell"], "key": f["key"],
            })
        })
        .collect()
}

/// The cells v2 fixture deployment on `server` as Nova dumped it: the API DB's URL and each cell's
/// (name, URL), databases named `{prefix}_api`, `{prefix}_cell0`... so binaries sharing a server differ.
pub fn v2_deployment(server: &MariaDb, prefix: &str) -> (String, Vec<(String, String)>) {
    let api = server.create_database(&format!("{prefix}_api"));
    server.load_sql_file(&api, &root().join("fixtures/schema/api.mysql.sql"));
    server.load_sql_file(&api, &root().join("fixtures/v2/api.sql"));
    let cells = ["cell0", "cell1", "cell2", "cell3"]
        .iter()
        .map(|c| {
            let url = mariadb_cell(
                server,
                &format!("{prefix}_{c}"),
                &[root().join(format!("fixtures/v2/{c}.sql"))],
            );
            (c.to_string(), url)
        })
        .collect();
    (api, cells)
}

/// The headless browser for tests of the HTML report: Debian's `chromium` (scripts/test.sh installs it
/// when missing). Without it, a machine with apt fails the test (install it, or run scripts/test.sh);
/// only where apt is unavailable is the browser part skipped, loudly.
pub fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let apt = ["/usr/bin/apt-get", "/bin/apt-get"]
        .iter()
        .any(|p| Path::new(p).exists());
    if apt {
        panic!(
            "chromium is not installed: run scripts/test.sh (it installs Debian's chromium) or apt-get install chromium"
        );
    }
    eprintln!(
        "\n!!!!!!!!\n!!! SKIPPED: the headless-browser check of the HTML report: no chromium and no apt-get to install it\n!!!!!!!!\n"
    );
    None
}
