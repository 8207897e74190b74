//! Passwords never leak: randomized passwords (every printable ASCII byte, space, quotes, `@/?#:%,`
//! and newline; seeded, so a failure reproduces) go through every place a URL enters cellaudit and no
//! output stream, JSON field, Prometheus label, journal or dry-run line may contain them.
//!
//! Two layers: the parsers and maskers called directly (thousands of cases: also a fuzz harness for
//! "never panics"), and the binary end to end (a few cases: flags, config TOML, nova.conf,
//! `cell_mappings` rows, `cells.transport_url` rows, a MariaDB user with that password so the audit
//! and `sync --apply` succeed and write their journal).
//!
//! `CELLAUDIT_FUZZ_CASES` (direct layer, default 600) and `CELLAUDIT_FUZZ_E2E` (end-to-end layer,
//! default 2) run longer on demand; `CELLAUDIT_FUZZ_SEED` picks another sequence.

mod common;

use cellaudit::broker::parse_transport_url;
use cellaudit::dburl::{DbUrl, mask_url, redact};
use common::{MariaDb, cellaudit, cellaudit_env};
use std::path::Path;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_num(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    env_num("CELLAUDIT_FUZZ_SEED", 0x5EC2_E7ED_CAFE_F00D) | 1
}

const SPECIAL: &[u8] = b" '\"@/?#:%,\n";

/// A password of 8 to 24 bytes: printable ASCII with the URL's structural bytes over-represented.
fn password(rng: &mut Rng) -> String {
    let len = 8 + rng.below(17) as usize;
    (0..len)
        .map(|_| {
            if rng.below(3) == 0 {
                SPECIAL[rng.below(SPECIAL.len() as u64) as usize] as char
            } else {
                (0x21 + rng.below(0x7f - 0x21) as u8) as char
            }
        })
        .collect()
}

/// Percent-encodes every byte that is not unreserved, as a careful operator would write the URL.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What must not appear: the password, its encoded form, and each of its pieces between the URL's
/// structural bytes that is long enough not to occur by chance (a partial leak is a leak).
fn needles(pw: &str) -> Vec<String> {
    let mut out = vec![pw.to_string(), enc(pw)];
    out.extend(
        pw.split(|c: char| c.is_whitespace() || "'\"`@/?#:%,&=;\\[]*".contains(c))
            .filter(|p| p.chars().count() >= 5)
            .map(str::to_string),
    );
    out
}

fn assert_no_leak(pw: &str, what: &str, text: &str) {
    for n in needles(pw) {
        assert!(
            !text.contains(&n),
            "{what} shows (part of) password {pw:?}: {n:?} in:\n{text}"
        );
    }
}

/// The URL shapes an operator may write a password into.
fn shapes(pw: &str, port: u16) -> Vec<String> {
    let e = enc(pw);
    vec![
        format!("mysql+pymysql://nova:{pw}@127.0.0.1:{port}/nova?charset=utf8"),
        format!("mysql://nova:{e}@127.0.0.1:{port}/nova"),
        format!("mysql://nova:{pw}@127.0.0.1:{port}/nova?ssl_mode=BOGUS"),
        format!("mysql://nova:{pw}@127.0.0.1:x{port}/nova"),
        format!("mysql://nova:{pw}@[::1]:{port}/nova"),
        format!("mysql://nova:{e}@127.0.0.1/nova?frobnicate=1"),
        format!("mysql://nova:{pw}@127.0.0.1"),
        format!("rabbit://nova:{pw}@127.0.0.1:{port}/"),
        format!("rabbit://nova:{e}@h1:5672,nova:{e}@h2:5672/vhost"),
        format!("rabbit://nova:{pw}@h1:5672,nova:{pw}@h2:5672/vhost"),
        format!("postgresql://nova:{pw}@h/nova"),
    ]
}

#[test]
fn parsers_and_maskers_never_show_a_password_nor_panic() {
    let cases = env_num("CELLAUDIT_FUZZ_CASES", 600);
    let mut rng = Rng(seed());
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..cases {
        let pw = password(&mut rng);
        for url in shapes(&pw, 1) {
            let parsed = DbUrl::parse(&url);
            let shown = match &parsed {
                Ok(u) => format!("{} {:?}", u.display_masked(), u),
                Err(e) => e.clone(),
            };
            assert_no_leak(&pw, &format!("DbUrl::parse({url:?})"), &shown);
            assert_no_leak(&pw, &format!("redact({url:?})"), &redact(&url));
            assert_no_leak(
                &pw,
                &format!("mask_url({url:?})"),
                &mask_url(&format!("cannot use {url}")),
            );
            let t = format!("{:?}", parse_transport_url(&url));
            assert_no_leak(&pw, &format!("parse_transport_url({url:?})"), &t);
            // A cells v2 mapping row holding the URL (or a template of it), and --cell-url.
            let mapping = cellaudit::v2::CellMapping {
                uuid: "11111111-1111-1111-1111-111111111111".into(),
                name: Some("cell1".into()),
                database_connection: Some(url.clone()),
                disabled: false,
            };
            let spec = cellaudit::topology_v2::cell_spec("cell1", &mapping, None, None);
            assert_no_leak(&pw, "cell_spec", &format!("{spec:?} {}", spec.shown));
            let templ = cellaudit::v2::CellMapping {
                database_connection: Some("{scheme}://{username}:{password}@{hostname}/x".into()),
                ..mapping.clone()
            };
            let spec = cellaudit::topology_v2::cell_spec("cell1", &templ, None, Some(&url));
            assert_no_leak(
                &pw,
                "templated cell_spec",
                &format!("{spec:?} {:?}", mapping),
            );
        }
        // nova.conf: one line per value, so a newline cannot be written there.
        let line_pw = pw.replace('\n', "x");
        let conf = dir.path().join("nova.conf");
        std::fs::write(
            &conf,
            format!(
                "[api_database]\nconnection = mysql://nova:{line_pw}@127.0.0.1:1/nova_api?bogus=1\n[database]\nconnection = mysql://nova:{line_pw}@127.0.0.1:1/nova\n"
            ),
        )
        .unwrap();
        let v2 = cellaudit::topology_v2::V2Config::from_inputs(&cellaudit::topology_v2::V2Inputs {
            api_db: None,
            nova_conf: Some(&conf),
            database_connection: None,
            cells: &[],
            cell_urls: &[],
            default_az: None,
            checks: &[],
            timeouts: Default::default(),
            format: cellaudit::render::Format::Json,
        });
        let shown = match &v2 {
            Ok(c) => format!("{c:?}"),
            Err(e) => e.to_string(),
        };
        assert_no_leak(&line_pw, "nova.conf", &shown);
    }
    eprintln!(
        "{cases} passwords x {} URL shapes in {:.1}s",
        shapes("", 1).len(),
        started.elapsed().as_secs_f64()
    );
}

/// Hostile input of any kind (not only passwords): the URL, transport and nova.conf parsers never panic.
#[test]
fn parsers_never_panic_on_arbitrary_text() {
    let cases = env_num("CELLAUDIT_FUZZ_CASES", 600) * 3;
    let mut rng = Rng(seed() ^ 0xABCD);
    let atoms: &[&str] = &[
        "mysql://",
        "rabbit://",
        "sqlite:///",
        "mysql+pymysql://",
        "://",
        "@",
        ":",
        "/",
        "?",
        "#",
        "[",
        "]",
        "[::1]",
        ",",
        "=",
        "&",
        "%",
        "%4",
        "%40",
        "%ff",
        "nova",
        "3306",
        "99999",
        "-1",
        "unix_socket=",
        "ssl_ca=/x",
        "ssl_mode=REQUIRED",
        " ",
        "\n",
        "\"",
        "'",
        "é",
        "\u{0}",
        "\u{1b}[2J",
        "{",
        "}",
        "{password}",
        "{hostname1}",
    ];
    for _ in 0..cases {
        let n = 1 + rng.below(12);
        let s: String = (0..n)
            .map(|_| atoms[rng.below(atoms.len() as u64) as usize])
            .collect();
        let _ = DbUrl::parse(&s);
        let _ = redact(&s);
        let _ = mask_url(&s);
        let _ = parse_transport_url(&s);
        let _ = cellaudit::dburl::split_hosts(&s);
        let m = cellaudit::v2::CellMapping {
            uuid: "u".into(),
            name: None,
            database_connection: Some(s.clone()),
            disabled: false,
        };
        let _ = cellaudit::topology_v2::cell_spec("c", &m, None, Some(&s));
    }
}

fn sqlite_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn toml_lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Every stream of one run, and the files it wrote, checked for the password.
fn check_run(pw: &str, what: &str, args: &[String], files: &[&Path]) {
    let run = cellaudit(args);
    assert_no_leak(pw, &format!("{what}: stdout"), &run.stdout);
    assert_no_leak(pw, &format!("{what}: stderr"), &run.stderr);
    for f in files {
        if let Ok(t) = std::fs::read_to_string(f) {
            assert_no_leak(pw, &format!("{what}: {}", f.display()), &t);
        }
    }
}

#[test]
fn the_binary_never_shows_a_password_from_any_entry_point() {
    let cases = env_num("CELLAUDIT_FUZZ_E2E", 2);
    let mut rng = Rng(seed() ^ 0x77);
    let dir = tempfile::tempdir().unwrap();
    let server = MariaDb::shared();
    for case in 0..cases {
        let pw = password(&mut rng);
        let d = dir.path().join(format!("c{case}"));
        std::fs::create_dir(&d).unwrap();
        let port = closed_port();
        let raw = format!("mysql://nova:{pw}@127.0.0.1:{port}/nova");
        let encoded = format!("mysql://nova:{}@127.0.0.1:{port}/nova", enc(&pw));
        let bad = format!("mysql://nova:{pw}@127.0.0.1:{port}/nova?ssl_mode=BOGUS");
        let rabbit = format!("rabbit://nova:{pw}@127.0.0.1:{port}/");
        let rabbit2 = format!(
            "rabbit://nova:{e}@127.0.0.1:{port},nova:{e}@127.0.0.1:{port}/",
            e = enc(&pw)
        );

        // A v1 parent whose cells rows carry the password in their transport URLs.
        let cells_sql = d.join("cells.sql");
        let comma = format!("rabbit://nova:1,{pw}:2,x@127.0.0.1:{port}/");
        std::fs::write(
            &cells_sql,
            format!(
                "UPDATE cells SET transport_url = {} WHERE name = 'child1';\nUPDATE cells SET transport_url = {} WHERE name = 'child2';\nUPDATE cells SET transport_url = {} WHERE name = 'child4';\n",
                sqlite_lit(&rabbit),
                sqlite_lit(&rabbit2),
                sqlite_lit(&comma),
            ),
        )
        .unwrap();
        let mut files = common::v1_fixtures("api", &[""]);
        files.push(cells_sql);
        let parent = common::sqlite_cell(&d, "api", &files);
        let child = common::sqlite_cell(&d, "child1", &common::v1_fixtures("child1", &[""]));
        let out = d.join("report.out");
        let journal_dir = d.join("journals");
        std::fs::create_dir(&journal_dir).unwrap();
        let v1 = |extra: &[&str]| -> Vec<String> {
            let mut a: Vec<String> = ["audit", "--parent", &parent, "--child"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            a.push(format!("child1={child}"));
            a.extend(extra.iter().map(|s| s.to_string()));
            a
        };
        for format in ["table", "json", "prometheus"] {
            let args = v1(&[
                "--child",
                &format!("child2={raw}"),
                "--child",
                &format!("child3={bad}"),
                "--child",
                &format!("child4={encoded}"),
                "--brokers",
                "--connect-timeout",
                "2",
                "--format",
                format,
            ]);
            check_run(&pw, &format!("audit --format {format}"), &args, &[]);
            let mut args = args.clone();
            args.extend(["-o".to_string(), out.display().to_string()]);
            check_run(&pw, &format!("audit -o ({format})"), &args, &[&out]);
        }
        // NAME= forgotten: the URL's own '=' would split it.
        check_run(
            &pw,
            "--child without NAME=",
            &v1(&[
                "--child",
                &format!("mysql://nova:{pw}=x@h/nova?charset=utf8"),
            ]),
            &[],
        );
        // Explain and sync (dry run) over the same topology.
        let mut ex = vec![
            "explain".to_string(),
            "aggregate".into(),
            "az-west-agg".into(),
        ];
        ex.extend(
            v1(&["--child", &format!("child2={raw}")])
                .into_iter()
                .skip(1),
        );
        check_run(&pw, "explain", &ex, &[]);
        let mut sync: Vec<String> = vec!["sync".into()];
        sync.extend(
            v1(&[
                "--child",
                &format!("child2={raw}"),
                "--child",
                &format!("child3={bad}"),
            ])
            .into_iter()
            .skip(1),
        );
        check_run(&pw, "sync dry run", &sync, &[]);

        // The same URLs from a config file.
        let toml = d.join("cellaudit.toml");
        std::fs::write(
            &toml,
            format!(
                "[parent]\nname = \"api\"\nurl = {}\n[[child]]\nname = \"child1\"\nurl = {}\n[[child]]\nname = \"child2\"\nurl = {}\n[[child]]\nname = \"child3\"\nurl = {}\nconnect_timeout = {}\n",
                toml_lit(&parent),
                toml_lit(&child),
                toml_lit(&raw),
                toml_lit(&bad),
                toml_lit(&raw),
            ),
        )
        .unwrap();
        check_run(
            &pw,
            "config file",
            &[
                "audit".into(),
                "--config".into(),
                toml.display().to_string(),
            ],
            &[],
        );

        // Cells v2: an API DB whose cell_mappings rows carry the password, found via nova.conf.
        let api_sql = d.join("api-rows.sql");
        std::fs::write(
            &api_sql,
            format!(
                "INSERT INTO cell_mappings (id, uuid, name, transport_url, database_connection, disabled) VALUES
 (1, '00000000-0000-0000-0000-000000000000', 'cell0', {t}, {c0}, 0),
 (2, '22222222-2222-2222-2222-222222222222', 'cell1', {t}, {c1}, 0),
 (3, '33333333-3333-3333-3333-333333333333', 'cell2', {t}, {c2}, 0);\n",
                t = sqlite_lit(&rabbit),
                c0 = sqlite_lit(&raw),
                c1 = sqlite_lit(&bad),
                c2 = sqlite_lit("{scheme}://{username}:{password}@{hostname}:{port}/nova_cell2"),
            ),
        )
        .unwrap();
        let api = common::sqlite_db(
            &d,
            "nova_api.sqlite",
            &[
                &common::root().join("fixtures/schema/api.sqlite.sql"),
                &api_sql,
            ],
        );
        let line_pw = pw.replace('\n', "x");
        let conf = d.join("nova.conf");
        std::fs::write(
            &conf,
            format!(
                "[api_database]\nconnection = {api}\n[database]\nconnection = mysql://nova:{line_pw}@127.0.0.1:{port}/nova\n"
            ),
        )
        .unwrap();
        for cmd in [
            vec!["audit", "--format", "json"],
            vec!["audit", "--format", "prometheus"],
            vec!["audit"],
            vec!["upgrade-check"],
            vec!["upgrade-check", "--json"],
        ] {
            let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            args.extend(["--nova-conf".into(), conf.display().to_string()]);
            check_run(&line_pw, &format!("{cmd:?} --nova-conf"), &args, &[]);
            check_run(&pw, &format!("{cmd:?} --nova-conf (rows)"), &args, &[]);
        }
        // An API database that nova.conf names with the password, unreachable.
        std::fs::write(
            &conf,
            format!(
                "[api_database]\nconnection = mysql+pymysql://nova:{line_pw}@127.0.0.1:{port}/nova_api\n"
            ),
        )
        .unwrap();
        check_run(
            &line_pw,
            "unreachable API DB from nova.conf",
            &[
                "upgrade-check".into(),
                "--nova-conf".into(),
                conf.display().to_string(),
            ],
            &[],
        );

        // A MariaDB user with this password: the audit succeeds and sync --apply writes a journal.
        let db = common::mariadb_cell(
            server,
            "secret_child",
            &common::v1_fixtures("child1", &[""]),
        );
        let name = common::db_name(&db);
        let user = format!("sec{case}_{}", std::process::id());
        let sql_pw = pw.replace('\\', "\\\\").replace('\'', "\\'");
        server.exec(
            &db,
            &format!(
                "CREATE USER '{user}'@'localhost' IDENTIFIED BY '{sql_pw}';\nGRANT ALL ON `{name}`.* TO '{user}'@'localhost';\n\
                 DELETE FROM aggregate_hosts WHERE aggregate_id IN (SELECT id FROM aggregates WHERE name = 'az-west-agg');\n\
                 DELETE FROM aggregate_metadata WHERE aggregate_id IN (SELECT id FROM aggregates WHERE name = 'az-west-agg');\n\
                 DELETE FROM aggregates WHERE name = 'az-west-agg';\n"
            ),
        );
        let live = format!(
            "mysql://{user}:{}@localhost/{name}?unix_socket={}",
            enc(&pw),
            server.socket().display()
        );
        let mut args = v1(&["--child", &format!("child2={live}"), "--format", "json"]);
        let run = cellaudit(&args);
        assert!(
            run.stdout.contains("\"child2\"") && !run.stdout.contains("unreachable"),
            "the password-holding user cannot log in: {}{}",
            run.stdout,
            run.stderr
        );
        assert_no_leak(&pw, "audit with a live password", &run.stdout);
        args.truncate(args.len() - 2);
        let mut sync: Vec<String> = vec!["sync".into()];
        sync.extend(args.into_iter().skip(1));
        check_run(&pw, "sync dry run (live)", &sync, &[]);
        sync.extend([
            "--apply".into(),
            "--yes".into(),
            "--journal-dir".into(),
            journal_dir.display().to_string(),
        ]);
        let run = cellaudit_env(&sync, &[]);
        assert_no_leak(&pw, "sync --apply stdout", &run.stdout);
        assert_no_leak(&pw, "sync --apply stderr", &run.stderr);
        let journals: Vec<_> = std::fs::read_dir(&journal_dir).unwrap().flatten().collect();
        assert!(
            !journals.is_empty(),
            "sync --apply wrote no journal: {}{}",
            run.stdout,
            run.stderr
        );
        for j in journals {
            let t = std::fs::read_to_string(j.path()).unwrap();
            assert_no_leak(&pw, "journal", &t);
        }
    }
}
