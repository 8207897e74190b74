//! `cellaudit demo`: builds the fixture deployment in SQLite in a temporary directory and audits it.

use crate::checks::V1_CHECKS;
use crate::cli::DemoArgs;
use crate::config::{CellSpec, format};
use crate::dburl::DbUrl;
use crate::engine::{V1Plan, audit_v1_cells};
use crate::findings::Role;
use crate::{exit_codes, render};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

/// Nova's main-database schema as `nova-manage db sync` creates it in SQLite.
pub const MAIN_SCHEMA_SQLITE: &str = include_str!("../fixtures/schema/main.sqlite.sql");

/// The fixtures' "now" (2019-10-01 12:00:00 UTC), so that rows they date just before it lag behind
/// as intended however long after 2019 the demo runs; `audit --as-of` reproduces it.
pub const FIXTURE_CLOCK: i64 = 1_569_931_200;

/// The demo deployment: (cell name, role, fixture files loaded in order).
pub const V1_FIXTURE: &[(&str, Role, &[&str])] = &[
    (
        "api",
        Role::Parent,
        &[
            include_str!("../fixtures/v1/parent.sql"),
            include_str!("../fixtures/v1/flavors-parent.sql"),
            include_str!("../fixtures/v1/hosts-parent.sql"),
            include_str!("../fixtures/v1/instances-parent.sql"),
        ],
    ),
    (
        "child1",
        Role::Child,
        &[
            include_str!("../fixtures/v1/child1.sql"),
            include_str!("../fixtures/v1/flavors-child1.sql"),
            include_str!("../fixtures/v1/hosts-child1.sql"),
            include_str!("../fixtures/v1/instances-child1.sql"),
        ],
    ),
    (
        "child2",
        Role::Child,
        &[
            include_str!("../fixtures/v1/child2.sql"),
            include_str!("../fixtures/v1/flavors-child2.sql"),
            include_str!("../fixtures/v1/hosts-child2.sql"),
            include_str!("../fixtures/v1/instances-child2.sql"),
        ],
    ),
    (
        "child3",
        Role::Child,
        &[
            include_str!("../fixtures/v1/child3.sql"),
            include_str!("../fixtures/v1/flavors-child3.sql"),
            include_str!("../fixtures/v1/hosts-child3.sql"),
            include_str!("../fixtures/v1/instances-child3.sql"),
        ],
    ),
];

/// Creates one SQLite database from Nova's schema and a cell's fixture files.
pub async fn build_sqlite(path: &Path, files: &[&'static str]) -> Result<(), String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(|e| format!("creating {}: {e}", path.display()))?;
    sqlx::raw_sql(MAIN_SCHEMA_SQLITE)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("loading Nova's schema into {}: {e}", path.display()))?;
    for rows in files {
        sqlx::raw_sql(*rows)
            .execute(&mut conn)
            .await
            .map_err(|e| format!("loading fixture rows into {}: {e}", path.display()))?;
    }
    conn.close().await.map_err(|e| e.to_string())
}

/// Builds the whole fixture deployment in `dir` and returns the cells to audit.
pub async fn build_deployment(dir: &Path) -> Result<(CellSpec, Vec<CellSpec>), String> {
    let mut parent = None;
    let mut children = Vec::new();
    for (name, role, rows) in V1_FIXTURE {
        let path = dir.join(format!("{name}.sqlite"));
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        build_sqlite(&path, rows).await?;
        let url = DbUrl::Sqlite { path };
        let spec = CellSpec {
            name: name.to_string(),
            role: *role,
            shown: url.display_masked(),
            url: Ok(url),
        };
        match role {
            Role::Parent => parent = Some(spec),
            Role::Child | Role::Api | Role::Cell | Role::Cell0 | Role::Placement => {
                children.push(spec)
            }
        }
    }
    Ok((parent.ok_or("fixture has no parent")?, children))
}

pub async fn run(args: &DemoArgs) -> u8 {
    let temp;
    let dir = match &args.keep {
        Some(d) => {
            if let Err(e) = std::fs::create_dir_all(d) {
                eprintln!("cellaudit demo: cannot create {}: {e}", d.display());
                return exit_codes::AUDIT_ERROR;
            }
            d.clone()
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("cellaudit demo: cannot create a temporary directory: {e}");
                return exit_codes::AUDIT_ERROR;
            }
        },
    };
    eprintln!(
        "cellaudit demo: building a cells v1 deployment (parent 'api', children child1-3) in {}",
        dir.display()
    );
    let (parent, children) = match build_deployment(&dir).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cellaudit demo: {e}");
            return exit_codes::AUDIT_ERROR;
        }
    };
    let checks: Vec<_> = V1_CHECKS.iter().collect();
    let plan = V1Plan {
        checks: &checks,
        progress: None,
        expect: Default::default(),
        timeouts: Default::default(),
        ignore_flavor_access: false,
        lag: crate::engine::DEFAULT_LAG,
        as_of: Some(FIXTURE_CLOCK),
        instances_mode: Default::default(),
        jobs: (
            crate::limits::DEFAULT_JOBS,
            crate::limits::DEFAULT_PER_SERVER,
        ),
        apis: &[],
        default_az: crate::v1::NOVA_DEFAULT_AZ,
        cells_config: &Default::default(),
    };
    let report = audit_v1_cells(&parent, &children, &plan).await;
    print!("{}", render::render(&report, format(args.format)));
    if args.keep.is_some() {
        eprintln!(
            "cellaudit demo: databases kept; audit them yourself with\n  cellaudit audit --parent sqlite://{d}/api.sqlite --child child1=sqlite://{d}/child1.sqlite --child child2=sqlite://{d}/child2.sqlite --child child3=sqlite://{d}/child3.sqlite --as-of '2019-10-01 12:00:00'",
            d = dir.display()
        );
    }
    exit_codes::for_report(&report)
}
