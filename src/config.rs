//! One validated audit configuration, built from the command line and an optional TOML file in one place.

use crate::checks::{self, CheckDef, Expect};
use crate::cli::{AuditArgs, ExpectArg, FormatArg, TopologyArgs};
use crate::db::Timeouts;
use crate::dburl::{DbUrl, Secret, redact};
use crate::findings::Role;
use crate::render::Format;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Seconds `--connect-timeout` / `connect_timeout` may be: SQLite's busy timeout is milliseconds in a
/// 32-bit integer, and a day is more than any server needs to answer.
pub const CONNECT_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=86_400;
/// Seconds `--statement-timeout` / `statement_timeout` may be: up to a week.
pub const STATEMENT_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=604_800;
/// Seconds `--lag` / `lag` may be: up to ten years (0 turns lagging off).
pub const LAG_SECS: std::ops::RangeInclusive<u64> = 0..=315_360_000;

/// Databases read at once (`--jobs`, `--jobs-per-server` and their config keys).
pub const JOBS: std::ops::RangeInclusive<u64> = 1..=256;

/// `--jobs` / `--jobs-per-server`: a count within [`JOBS`].
pub fn parse_jobs(raw: &str) -> Result<usize, String> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| JOBS.contains(n))
        .map(|n| n as usize)
        .ok_or_else(|| {
            format!(
                "must be at least {} and at most {} (a whole number)",
                JOBS.start(),
                JOBS.end()
            )
        })
}

/// A number of seconds within `range`; the message is one line naming the range.
fn secs_in(raw: &str, range: &std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let t = raw.trim();
    t.parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number of seconds from {} to {}",
                range.start(),
                range.end()
            )
        })
}

/// clap value parsers for the numeric flags, so out-of-range values are refused before anything runs.
pub fn parse_connect_timeout(raw: &str) -> Result<u64, String> {
    secs_in(raw, &CONNECT_TIMEOUT_SECS)
}
pub fn parse_statement_timeout(raw: &str) -> Result<u64, String> {
    secs_in(raw, &STATEMENT_TIMEOUT_SECS)
}
pub fn parse_lag(raw: &str) -> Result<u64, String> {
    secs_in(raw, &LAG_SECS)
}

/// A value from the config file checked against its range.
fn file_secs(
    path: &Path,
    key: &str,
    v: Option<u64>,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ConfigError> {
    match v {
        Some(n) if !range.contains(&n) => Err(ConfigError(format!(
            "config {}: {key} = {n} is out of range ({} to {} seconds)",
            path.display(),
            range.start(),
            range.end()
        ))),
        other => Ok(other),
    }
}

/// A cell to audit. A bad URL or password source is kept as an error so the other cells are still audited.
#[derive(Debug, Clone)]
pub struct CellSpec {
    pub name: String,
    pub role: Role,
    pub url: Result<DbUrl, String>,
    /// What to show for the cell's location even when its URL did not parse (password masked).
    pub shown: String,
}

#[derive(Debug)]
pub struct AuditConfig {
    pub parent: CellSpec,
    pub children: Vec<CellSpec>,
    pub checks: Vec<&'static CheckDef>,
    pub expect: Expect,
    pub timeouts: Timeouts,
    pub format: Format,
    /// Write the rendered report here (atomically) instead of stdout.
    pub output: Option<PathBuf>,
    /// No progress bar or notes on stderr.
    pub quiet: bool,
    pub ignore_flavor_access: bool,
    pub lag: Duration,
    pub as_of: Option<i64>,
    pub instances_mode: checks::instances::Mode,
    /// `--jobs`, `--jobs-per-server` (config `jobs`, `jobs_per_server`).
    pub jobs: (usize, usize),
    /// Cells v1, Newton to Stein: each cell's API database, named after its cell (role `Api`).
    pub apis: Vec<CellSpec>,
    /// The AZ of a host in no AZ aggregate (`[DEFAULT] default_availability_zone`); an aggregate with this AZ is no AZ.
    pub default_az: String,
    /// `[cells] cells_config` files by cell name: neighbours kept in JSON instead of the `cells` table.
    pub cells_config: BTreeMap<String, PathBuf>,
}

/// A configuration that cannot be audited at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCell {
    name: Option<String>,
    url: String,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    /// The cell's API database (Newton to Stein), as `--parent-api` / `--child-api`.
    api_url: Option<String>,
    api_password_env: Option<String>,
    api_password_file: Option<PathBuf>,
    /// The cell's `[cells] cells_config` JSON file, as `--cells-config`.
    cells_config: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    parent: Option<FileCell>,
    #[serde(default)]
    child: Vec<FileCell>,
    expect: Option<String>,
    /// Probe the message brokers too (the opt-in brokers check), as `--brokers` does.
    brokers: Option<bool>,
    ignore_flavor_access: Option<bool>,
    /// Compare flavor access rows and is_public too, as `--flavor-access`.
    flavor_access: Option<bool>,
    /// As `--default-az`.
    default_az: Option<String>,
    lag: Option<u64>,
    /// `stream` or `hash`, as `--instances-mode`.
    instances_mode: Option<String>,
    /// As `--memory-budget` (MiB).
    memory_budget: Option<u64>,
    /// As `--jobs` and `--jobs-per-server`.
    jobs: Option<usize>,
    jobs_per_server: Option<usize>,
    connect_timeout: Option<u64>,
    statement_timeout: Option<u64>,
    /// Cells v2: the placement database (url, password_env or password_file), as `--placement-db`.
    placement: Option<FileCell>,
}

#[derive(Debug, Default)]
struct PasswordSource {
    env: Option<String>,
    file: Option<PathBuf>,
}

/// Splits a `KEY=VALUE` flag value; `shape` is how the error spells what was expected.
pub(crate) fn split_pair<'a>(
    flag: &str,
    shape: &str,
    raw: &'a str,
) -> Result<(&'a str, &'a str), ConfigError> {
    // The value is never echoed: it may be a URL with its password, and a URL given without `NAME=`
    // splits at its own '=' (mysql://nova:S3CRET=pw@h) into a "name" that holds part of the password.
    match raw.split_once('=') {
        Some((k, _)) if k.contains([':', '/', '@']) => Err(ConfigError(format!(
            "{flag} expects {shape}, but the text before the first '=' is not a name (it holds ':', '/' or '@'; was the NAME= part forgotten?)"
        ))),
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok((k.trim(), v.trim())),
        Some((k, _)) if k.trim().is_empty() => Err(ConfigError(format!(
            "{flag} expects {shape}, but the name before '=' is empty"
        ))),
        Some(_) => Err(ConfigError(format!(
            "{flag} expects {shape}, but the value after '=' is empty"
        ))),
        None => Err(ConfigError(format!(
            "{flag} expects {shape}, but the value has no '='"
        ))),
    }
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let msg = hide_quoted(&e.message().replace('\n', " "));
        // Lines are counted by the newlines before the error, so a key at the start of a line is on
        // that line, not the one above it.
        let line = e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| format!(" at line {}", before.matches('\n').count() + 1))
            .unwrap_or_default();
        ConfigError(format!("config {}{line}: {msg}", path.display()))
    })
}

/// A TOML error message with every quoted value hidden: serde quotes the offending value
/// (`invalid type: string "mysql://u:pw@h/x", expected u64`), which may be a URL with its password.
fn hide_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            let mut escaped = false;
            for d in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    break;
                }
            }
            out.push_str("…\"");
        }
    }
    out
}

fn read_password(cell: &str, src: &PasswordSource) -> Result<Option<Secret>, String> {
    match (&src.env, &src.file) {
        (Some(_), Some(_)) => Err(format!(
            "cell '{cell}': both password_env and password_file are set; pick one"
        )),
        (Some(var), None) => match std::env::var(var) {
            // An empty password is almost always a variable exported without its value.
            Ok(v) if v.is_empty() => Err(format!(
                "cell '{cell}': environment variable {var} (password_env) is empty"
            )),
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "cell '{cell}': environment variable {var} (password_env) is not valid UTF-8"
            )),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "cell '{cell}': environment variable {var} (password_env) is not set"
            )),
        },
        (None, Some(path)) => match std::fs::read(path) {
            Err(e) => Err(format!(
                "cell '{cell}': cannot read password file {}: {e}",
                path.display()
            )),
            Ok(bytes) => {
                let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
                let first = first.strip_suffix(b"\r").unwrap_or(first);
                match std::str::from_utf8(first) {
                    Ok("") => Err(format!(
                        "cell '{cell}': password file {} is empty (the password is its first line)",
                        path.display()
                    )),
                    Ok(pw) => Ok(Some(Secret::new(pw))),
                    Err(_) => Err(format!(
                        "cell '{cell}': the first line of password file {} is not valid UTF-8",
                        path.display()
                    )),
                }
            }
        },
        (None, None) => Ok(None),
    }
}

fn cell_spec(name: &str, role: Role, raw_url: &str, src: &PasswordSource) -> CellSpec {
    let url = DbUrl::parse(raw_url)
        .map_err(|e| format!("cell '{name}': {e}"))
        .and_then(|mut u| {
            if let Some(pw) = read_password(name, src)? {
                if u.password().is_some() {
                    return Err(format!(
                        "cell '{name}': the URL has a password and a password source is also given; pick one"
                    ));
                }
                u.set_password(pw).map_err(|e| format!("cell '{name}': {e}"))?;
            }
            Ok(u)
        });
    let shown = match &url {
        Ok(u) => u.display_masked(),
        Err(_) => redact(raw_url),
    };
    CellSpec {
        name: name.to_string(),
        role,
        url,
        shown,
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Builds the parent and children from the file and the flags; flags add to (and for the parent, override) the file.
/// The API databases and `cells_config` files of a v1 topology, by cell name.
type V1Extras = (Vec<CellSpec>, BTreeMap<String, PathBuf>);

/// A v1 topology: the parent, the children, their API databases and `cells_config` files.
type V1Topology = (
    CellSpec,
    Vec<CellSpec>,
    Vec<CellSpec>,
    BTreeMap<String, PathBuf>,
);

/// The parent and children of the file and flags, plus each cell's API database and `cells_config` file.
fn topology_with_apis(t: &TopologyArgs, file: &FileConfig) -> Result<V1Topology, ConfigError> {
    let (parent, children) = topology_core(t, file)?;
    let (apis, cells_config) = v1_extras(t, file, &parent, &children)?;
    Ok((parent, children, apis, cells_config))
}

/// Reads `--parent-api`, `--child-api`, the API password sources and `--cells-config` (flags
/// override the file), checking that every name they give is a configured cell.
fn v1_extras(
    t: &TopologyArgs,
    file: &FileConfig,
    parent: &CellSpec,
    children: &[CellSpec],
) -> Result<V1Extras, ConfigError> {
    let known = |name: &str| name == parent.name || children.iter().any(|c| c.name == name);
    let unknown = |flag: &str, name: &str| {
        ConfigError(format!(
            "{flag} names cell '{}', which is not configured",
            redact(name)
        ))
    };
    let mut sources: BTreeMap<String, PasswordSource> = BTreeMap::new();
    for raw in &t.api_password_env {
        let (cell, var) = split_pair("--api-password-env", "CELL=VAR", raw)?;
        if !known(cell) {
            return Err(unknown("--api-password-env", cell));
        }
        sources.entry(cell.to_string()).or_default().env = Some(var.to_string());
    }
    for raw in &t.api_password_file {
        let (cell, path) = split_pair("--api-password-file", "CELL=PATH", raw)?;
        if !known(cell) {
            return Err(unknown("--api-password-file", cell));
        }
        sources.entry(cell.to_string()).or_default().file = Some(PathBuf::from(path));
    }
    let file_cell = |name: &str| -> Option<&FileCell> {
        if name == parent.name {
            file.parent.as_ref()
        } else {
            file.child.iter().find(|c| c.name.as_deref() == Some(name))
        }
    };
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    for c in std::iter::once(parent).chain(children) {
        if let Some(u) = file_cell(&c.name).and_then(|f| f.api_url.clone()) {
            urls.insert(c.name.clone(), u);
        }
    }
    if let Some(u) = &t.parent_api {
        urls.insert(parent.name.clone(), u.clone());
    }
    for raw in &t.child_api {
        let (cell, url) = split_pair("--child-api", "NAME=URL", raw)?;
        if !children.iter().any(|c| c.name == cell) {
            return Err(unknown("--child-api", cell));
        }
        urls.insert(cell.to_string(), url.to_string());
    }
    let mut apis = Vec::new();
    for c in std::iter::once(parent).chain(children) {
        let Some(url) = urls.get(&c.name) else {
            if sources.contains_key(&c.name) {
                return Err(ConfigError(format!(
                    "an API password source is given for cell '{}' but no API database URL (--parent-api/--child-api or api_url)",
                    c.name
                )));
            }
            continue;
        };
        let fc = file_cell(&c.name);
        let flag = sources.get(&c.name);
        let src = PasswordSource {
            env: flag
                .and_then(|s| s.env.clone())
                .or_else(|| fc.and_then(|f| f.api_password_env.clone())),
            file: flag
                .and_then(|s| s.file.clone())
                .or_else(|| fc.and_then(|f| f.api_password_file.clone())),
        };
        let mut spec = cell_spec(&c.name, Role::Api, url, &src);
        spec.url = spec
            .url
            .map_err(|e| e.replacen("cell '", "the API database of cell '", 1));
        apis.push(spec);
    }
    let mut cells_config = BTreeMap::new();
    for c in std::iter::once(parent).chain(children) {
        if let Some(p) = file_cell(&c.name).and_then(|f| f.cells_config.clone()) {
            cells_config.insert(c.name.clone(), p);
        }
    }
    for raw in &t.cells_config {
        match raw.split_once('=') {
            Some((cell, path)) if !cell.trim().is_empty() && !path.trim().is_empty() => {
                if !known(cell.trim()) {
                    return Err(unknown("--cells-config", cell.trim()));
                }
                cells_config.insert(cell.trim().to_string(), PathBuf::from(path.trim()));
            }
            _ => {
                cells_config.insert(parent.name.clone(), PathBuf::from(raw.trim()));
            }
        }
    }
    Ok((apis, cells_config))
}

/// The parent and children of the file and the flags.
fn topology_core(
    t: &TopologyArgs,
    file: &FileConfig,
) -> Result<(CellSpec, Vec<CellSpec>), ConfigError> {
    let mut sources: BTreeMap<String, PasswordSource> = BTreeMap::new();
    for raw in &t.password_env {
        let (cell, var) = split_pair("--password-env", "NAME=VALUE", raw)?;
        sources.entry(cell.to_string()).or_default().env = Some(var.to_string());
    }
    for raw in &t.password_file {
        let (cell, path) = split_pair("--password-file", "NAME=VALUE", raw)?;
        sources.entry(cell.to_string()).or_default().file = Some(PathBuf::from(path));
    }
    let source_for = |name: &str, fc: Option<&FileCell>| -> PasswordSource {
        let flag = sources.get(name);
        PasswordSource {
            env: flag
                .and_then(|s| s.env.clone())
                .or_else(|| fc.and_then(|f| f.password_env.clone())),
            file: flag
                .and_then(|s| s.file.clone())
                .or_else(|| fc.and_then(|f| f.password_file.clone())),
        }
    };

    let parent_name = t
        .parent_name
        .clone()
        .or_else(|| file.parent.as_ref().and_then(|p| p.name.clone()))
        .unwrap_or_else(|| "parent".to_string());
    let parent_url = t
        .parent
        .clone()
        .or_else(|| file.parent.as_ref().map(|p| p.url.clone()))
        .ok_or_else(|| {
            ConfigError("no parent database: give --parent URL or [parent] in a config file (--config, $CELLAUDIT_CONFIG or /etc/cellaudit/cellaudit.toml)".into())
        })?;
    let parent = cell_spec(
        &parent_name,
        Role::Parent,
        &parent_url,
        &source_for(&parent_name, file.parent.as_ref()),
    );

    let mut children = Vec::new();
    for (i, fc) in file.child.iter().enumerate() {
        let name = fc
            .name
            .clone()
            .ok_or_else(|| ConfigError(format!("[[child]] number {} has no name", i + 1)))?;
        children.push(cell_spec(
            &name,
            Role::Child,
            &fc.url,
            &source_for(&name, Some(fc)),
        ));
    }
    for raw in &t.children {
        let (name, url) = split_pair("--child", "NAME=VALUE", raw)?;
        children.push(cell_spec(name, Role::Child, url, &source_for(name, None)));
    }
    if children.is_empty() {
        return Err(ConfigError(
            "no child databases: give --child NAME=URL or [[child]] in --config".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    for c in std::iter::once(&parent).chain(&children) {
        if !valid_name(&c.name) {
            // A URL given without NAME= splits at its query's '=' into a "name" holding the password.
            // A name holding ':', '/' or '@' may be a piece of a URL (and of its password): not echoed.
            let shown = if c.name.contains([':', '/', '@']) {
                "(not shown: it holds ':', '/' or '@', like a URL)".to_string()
            } else {
                format!("{:?}", c.name)
            };
            return Err(ConfigError(format!(
                "cell name {shown} is not valid (letters, digits, '-', '_', '.')"
            )));
        }
        if !seen.insert(c.name.clone()) {
            return Err(ConfigError(format!(
                "cell name '{}' is given twice",
                c.name
            )));
        }
    }
    for cell in sources.keys() {
        if !seen.contains(cell) {
            return Err(ConfigError(format!(
                "a password source names cell '{cell}', which is not configured"
            )));
        }
    }
    Ok((parent, children))
}

/// The configuration file read when `--config` is not given and no topology flag is either.
pub const SYSTEM_CONFIG: &str = "/etc/cellaudit/cellaudit.toml";

/// Which configuration file to read: `--config`, else `$CELLAUDIT_CONFIG`, else `system` when it
/// exists and the command line names no database itself (so flags alone never pick up a stray file).
pub fn config_path(
    flag: Option<&Path>,
    env: Option<std::ffi::OsString>,
    system: &Path,
    topology_flags: bool,
) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(e) = env.filter(|e| !e.is_empty()) {
        return Some(PathBuf::from(e));
    }
    (!topology_flags && system.is_file()).then(|| system.to_path_buf())
}

impl AuditConfig {
    pub fn from_args(args: &AuditArgs) -> Result<AuditConfig, ConfigError> {
        if topology_of(args)? == Topology::V2 {
            return Err(ConfigError(
                "this command reads cells v1 databases; --api-db and --nova-conf are for `cellaudit audit` and `upgrade-check`".into(),
            ));
        }
        let t = &args.topology;
        let path = config_path(
            t.config.as_deref(),
            std::env::var_os("CELLAUDIT_CONFIG"),
            Path::new(SYSTEM_CONFIG),
            t.parent.is_some() || !t.children.is_empty(),
        );
        let mut file = match &path {
            Some(p) => load_file(p)?,
            None => FileConfig::default(),
        };
        if let Some(p) = &path {
            file.connect_timeout = file_secs(
                p,
                "connect_timeout",
                file.connect_timeout,
                &CONNECT_TIMEOUT_SECS,
            )?;
            file.statement_timeout = file_secs(
                p,
                "statement_timeout",
                file.statement_timeout,
                &STATEMENT_TIMEOUT_SECS,
            )?;
            file.lag = file_secs(p, "lag", file.lag, &LAG_SECS)?;
        }
        let (parent, children, apis, cells_config) = topology_with_apis(&args.topology, &file)?;
        let expect = match (args.expect, file.expect.as_deref()) {
            (Some(ExpectArg::All), _) | (None, Some("all")) => Expect::All,
            (Some(ExpectArg::Members), _) | (None, Some("members")) | (None, None) => {
                Expect::Members
            }
            (None, Some(other)) => {
                return Err(ConfigError(format!(
                    "config: expect must be 'members' or 'all', not '{other}'"
                )));
            }
        };
        let mut checks = select_checks(&args.check)?;
        if (args.brokers || file.brokers.unwrap_or(false))
            && !checks.iter().any(|c| c.name == checks::brokers::CHECK)
        {
            checks.extend(
                checks::OPT_IN_CHECKS
                    .iter()
                    .filter(|c| c.name == checks::brokers::CHECK),
            );
        }
        let d = Timeouts::default();
        let secs =
            |flag: Option<u64>, file: Option<u64>, def: Duration, what: &str| match flag.or(file) {
                Some(0) => Err(ConfigError(format!("{what} must be at least 1 second"))),
                Some(s) => Ok(Duration::from_secs(s)),
                None => Ok(def),
            };
        let timeouts = Timeouts {
            connect: secs(
                args.topology.connect_timeout,
                file.connect_timeout,
                d.connect,
                "connect timeout",
            )?,
            statement: secs(
                args.topology.statement_timeout,
                file.statement_timeout,
                d.statement,
                "statement timeout",
            )?,
        };
        let jobs = read_limits(&args.read, file.jobs, file.jobs_per_server)?;
        Ok(AuditConfig {
            jobs,
            parent,
            children,
            checks,
            expect,
            timeouts,
            format: format(args.format),
            output: args.output.clone(),
            quiet: args.quiet,
            // Access rows and is_public are compared only when asked (--flavor-access): children look
            // resize flavors up by flavorid with an admin context (nova/compute/cells_api.py resize).
            ignore_flavor_access: {
                let from_file = file.flavor_access.unwrap_or(false)
                    && !file.ignore_flavor_access.unwrap_or(false);
                let compare = args.flavor_access || (from_file && !args.ignore_flavor_access);
                !compare
            },
            lag: args
                .lag
                .or(file.lag)
                .map_or(crate::engine::DEFAULT_LAG, Duration::from_secs),
            as_of: args.as_of.as_deref().map(parse_as_of).transpose()?,
            instances_mode: match args
                .instances_mode
                .as_deref()
                .or(file.instances_mode.as_deref())
            {
                None => checks::instances::Mode::default(),
                Some(m) => checks::instances::Mode::parse(m).ok_or_else(|| {
                    ConfigError(format!(
                        "instances_mode must be one of {}, not '{m}'",
                        checks::instances::Mode::NAMES.join(", ")
                    ))
                })?,
            }
            .with_budget(args.memory_budget.or(file.memory_budget))?,
            apis,
            default_az: args
                .v2
                .default_az
                .clone()
                .or(file.default_az.clone())
                .unwrap_or_else(|| crate::v1::NOVA_DEFAULT_AZ.to_string()),
            cells_config,
        })
    }
}

impl checks::instances::Mode {
    /// Auto mode with `--memory-budget` MiB (0 is refused; other modes ignore it).
    fn with_budget(self, mib: Option<u64>) -> Result<Self, ConfigError> {
        match (self, mib) {
            (_, Some(0)) => Err(ConfigError(
                "--memory-budget must be at least 1 (MiB)".into(),
            )),
            (checks::instances::Mode::Auto { .. }, Some(m)) => Ok(checks::instances::Mode::Auto {
                budget: m.saturating_mul(1024 * 1024),
            }),
            (mode, _) => Ok(mode),
        }
    }
}

/// `--jobs`/`--jobs-per-server` (or the config file's `jobs`/`jobs_per_server`), with their defaults.
pub fn read_limits(
    args: &crate::cli::ReadArgs,
    file_jobs: Option<usize>,
    file_per_server: Option<usize>,
) -> Result<(usize, usize), ConfigError> {
    let pick =
        |flag: Option<usize>, file: Option<usize>, def: usize, what: &str| match flag.or(file) {
            // tokio's semaphore panics above usize::MAX >> 3 permits; far fewer databases exist.
            Some(n) if !JOBS.contains(&(n as u64)) => Err(ConfigError(format!(
                "{what} = {n} is out of range ({} to {})",
                JOBS.start(),
                JOBS.end()
            ))),
            Some(n) => Ok(n),
            None => Ok(def),
        };
    Ok((
        pick(args.jobs, file_jobs, crate::limits::DEFAULT_JOBS, "--jobs")?,
        pick(
            args.jobs_per_server,
            file_per_server,
            crate::limits::DEFAULT_PER_SERVER,
            "--jobs-per-server",
        )?,
    ))
}

/// `--as-of`: a UTC time as Nova writes timestamps, to audit a restored backup against the moment it was taken.
pub(crate) fn parse_as_of(raw: &str) -> Result<i64, ConfigError> {
    let t = raw.trim();
    sqlx::types::chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| sqlx::types::chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .map(|d| d.and_utc().timestamp())
        .map_err(|_| {
            ConfigError(format!(
                "--as-of expects 'YYYY-MM-DD HH:MM:SS' (UTC), got '{t}'"
            ))
        })
}

/// Which deployment an audit command line describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// A parent and its children (`--parent`, `--child`, a config file).
    V1,
    /// An API database and the cells in its `cell_mappings` (`--api-db`, `--nova-conf`).
    V2,
}

/// Whether the command line names a cells v2 API database.
pub fn wants_v2(v2: &crate::cli::V2Args) -> bool {
    v2.api_db.is_some() || v2.nova_conf.is_some()
}

/// Exactly one topology per run: the cells v1 flags or the cells v2 flags, never both.
pub fn topology_of(args: &AuditArgs) -> Result<Topology, ConfigError> {
    let t = &args.topology;
    let v = &args.v2;
    // A cells v2 run may take a --config file for its [placement] section.
    let v1 = t.parent.is_some() || !t.children.is_empty() || (t.config.is_some() && !wants_v2(v));
    if wants_v2(v) {
        if v1 {
            return Err(ConfigError(
                "give either cells v1 databases (--parent/--child/--config) or a cells v2 API database (--api-db/--nova-conf), not both".into(),
            ));
        }
        if t.parent_name.is_some() || !t.password_env.is_empty() || !t.password_file.is_empty() {
            return Err(ConfigError(
                "--parent-name, --password-env and --password-file are cells v1 options; cells v2 reads passwords from the connection URLs".into(),
            ));
        }
        if t.parent_api.is_some()
            || !t.child_api.is_empty()
            || !t.api_password_env.is_empty()
            || !t.api_password_file.is_empty()
            || !t.cells_config.is_empty()
        {
            return Err(ConfigError(
                "--parent-api, --child-api, --api-password-env, --api-password-file and --cells-config are cells v1 options; cells v2 reads the API database from --api-db".into(),
            ));
        }
        return Ok(Topology::V2);
    }
    if !v.cells.is_empty() || !v.cell_urls.is_empty() || v.database_connection.is_some() {
        return Err(ConfigError(
            "--cell, --cell-url and --database-connection are cells v2 options: they need --api-db or --nova-conf".into(),
        ));
    }
    Ok(Topology::V1)
}

/// Seconds from a flag as a timeout: at least one, else the default.
fn timeout(flag: Option<u64>, default: Duration, what: &str) -> Result<Duration, ConfigError> {
    match flag {
        Some(0) => Err(ConfigError(format!("{what} must be at least 1 second"))),
        Some(s) => Ok(Duration::from_secs(s)),
        None => Ok(default),
    }
}

/// The placement part of a cells v2 command line: where placement's database is, first of `--placement-db`,
/// `--placement-conf`'s `[placement_database] connection`, the config file's `[placement]`, and nova.conf's
/// `[placement_database] connection` (Rocky and Stein could keep in-tree placement in a database of its own);
/// and which placement checks run.
pub fn placement_config(
    v2: &crate::cli::V2Args,
    config_file: Option<&Path>,
    checks: &[String],
) -> Result<crate::placement::PlacementConfig, ConfigError> {
    use crate::placement;
    let named: Vec<&'static str> = checks
        .iter()
        .filter_map(|n| {
            placement::CHECKS
                .iter()
                .find(|(c, _)| *c == n.trim())
                .map(|(c, _)| *c)
        })
        .collect();
    let chosen = if checks.is_empty() {
        placement::CHECKS.iter().map(|(c, _)| *c).collect()
    } else {
        named.clone()
    };
    let conf_connection = |path: &Path, what: &str| -> Result<Option<String>, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {what} {}: {e}", path.display())))?;
        Ok(crate::topology_v2::parse_nova_conf(&text)
            .get("placement_database")
            .and_then(|s| s.get("connection"))
            .filter(|c| !c.is_empty())
            .cloned())
    };
    let file = match config_file {
        Some(p) => {
            let f = load_file(p)?;
            if f.parent.is_some() || !f.child.is_empty() {
                return Err(ConfigError(format!(
                    "config {}: [parent] and [[child]] describe cells v1; a cells v2 run reads only [placement] from it",
                    p.display()
                )));
            }
            f.placement
        }
        None => None,
    };
    let none = PasswordSource::default();
    let spec = if let Some(url) = &v2.placement_db {
        Some(cell_spec(placement::NAME, Role::Placement, url, &none))
    } else if let Some(path) = &v2.placement_conf {
        let url = conf_connection(path, "placement.conf")?.ok_or_else(|| {
            ConfigError(format!(
                "{} has no [placement_database] connection; give --placement-db URL",
                path.display()
            ))
        })?;
        Some(cell_spec(placement::NAME, Role::Placement, &url, &none))
    } else if let Some(fc) = &file {
        let src = PasswordSource {
            env: fc.password_env.clone(),
            file: fc.password_file.clone(),
        };
        Some(cell_spec(placement::NAME, Role::Placement, &fc.url, &src))
    } else if let Some(path) = &v2.nova_conf {
        conf_connection(path, "nova.conf")?
            .map(|url| cell_spec(placement::NAME, Role::Placement, &url, &none))
    } else {
        None
    };
    Ok(placement::PlacementConfig {
        spec,
        checks: chosen,
        named: !named.is_empty(),
    })
}

/// The validated cells v2 configuration of a command line.
pub fn v2_config(
    v2: &crate::cli::V2Args,
    connect_timeout: Option<u64>,
    statement_timeout: Option<u64>,
    checks: &[String],
    format: Format,
) -> Result<crate::topology_v2::V2Config, ConfigError> {
    v2_config_with(v2, None, connect_timeout, statement_timeout, checks, format)
}

/// [`v2_config`] with the `--config` file that may hold `[placement]`.
pub fn v2_config_with(
    v2: &crate::cli::V2Args,
    config_file: Option<&Path>,
    connect_timeout: Option<u64>,
    statement_timeout: Option<u64>,
    checks: &[String],
    format: Format,
) -> Result<crate::topology_v2::V2Config, ConfigError> {
    let placement = placement_config(v2, config_file, checks)?;
    let nova_checks: Vec<String> = checks
        .iter()
        .filter(|n| !crate::placement::is_check(n.trim()))
        .cloned()
        .collect();
    let d = Timeouts::default();
    let mut cfg = crate::topology_v2::V2Config::from_inputs(&crate::topology_v2::V2Inputs {
        api_db: v2.api_db.as_deref(),
        nova_conf: v2.nova_conf.as_deref(),
        database_connection: v2.database_connection.as_deref(),
        cells: &v2.cells,
        cell_urls: &v2.cell_urls,
        default_az: v2.default_az.as_deref(),
        checks: &nova_checks,
        timeouts: Timeouts {
            connect: timeout(connect_timeout, d.connect, "connect timeout")?,
            statement: timeout(statement_timeout, d.statement, "statement timeout")?,
        },
        format,
    })?;
    // Only placement checks named: no Nova check runs (an empty list would mean all of them).
    if !checks.is_empty() && nova_checks.is_empty() {
        cfg.checks.clear();
    }
    cfg.placement = placement;
    Ok(cfg)
}

pub fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Prometheus => Format::Prometheus,
    }
}

pub fn select_checks(names: &[String]) -> Result<Vec<&'static CheckDef>, ConfigError> {
    if names.is_empty() {
        return Ok(checks::V1_CHECKS.iter().collect());
    }
    let mut out = Vec::new();
    for n in names {
        let c = checks::find(n.trim()).ok_or_else(|| {
            let known: Vec<&str> = checks::V1_CHECKS
                .iter()
                .chain(checks::OPT_IN_CHECKS)
                .map(|c| c.name)
                .collect();
            ConfigError(format!(
                "unknown check '{}' (known: {})",
                n.trim(),
                known.join(", ")
            ))
        })?;
        if !out.iter().any(|o: &&CheckDef| o.name == c.name) {
            out.push(c);
        }
    }
    Ok(out)
}

/// One validated `sync` run: the audit it stands on, the children and checks to act on, and how.
#[derive(Debug)]
pub struct SyncConfig {
    pub audit: AuditConfig,
    /// Children to plan for; empty means every configured child.
    pub cells: Vec<String>,
    pub sync_checks: Vec<&'static str>,
    pub apply: bool,
    pub yes: bool,
    pub fix_drift: bool,
    pub undo: Option<PathBuf>,
    /// Where journals go; `None`: the state directory ([`crate::sync::journal::default_dir`]).
    pub journal_dir: Option<PathBuf>,
}

impl SyncConfig {
    pub fn from_args(args: crate::cli::SyncArgs) -> Result<SyncConfig, ConfigError> {
        let fixable = crate::sync::SYNC_CHECKS;
        let mut sync_checks: Vec<&'static str> = Vec::new();
        for n in args.check.iter().map(|n| n.trim()) {
            let Some(c) = fixable.iter().find(|c| **c == n) else {
                return Err(ConfigError(format!(
                    "sync cannot fix check '{n}' (it fixes: {})",
                    fixable.join(", ")
                )));
            };
            if !sync_checks.contains(c) {
                sync_checks.push(c);
            }
        }
        if sync_checks.is_empty() {
            sync_checks = fixable.to_vec();
        }
        let audit_args = AuditArgs {
            topology: args.topology,
            v2: crate::cli::V2Args::default(),
            read: crate::cli::ReadArgs::default(),
            format: FormatArg::Table,
            check: sync_checks.iter().map(|c| c.to_string()).collect(),
            brokers: false,
            output: None,
            quiet: false,
            expect: None,
            // Children are public by design at many sites (CERN) and sync never copies access rows.
            ignore_flavor_access: true,
            flavor_access: false,
            lag: None,
            as_of: None,
            instances_mode: None,
            memory_budget: None,
        };
        let audit = AuditConfig::from_args(&audit_args)?;
        let mut cells = Vec::new();
        for c in args.cells.iter().map(|c| c.trim()) {
            if !audit.children.iter().any(|s| s.name == c) {
                let known: Vec<&str> = audit.children.iter().map(|s| s.name.as_str()).collect();
                return Err(ConfigError(format!(
                    "--cell {c}: no such child (configured: {})",
                    known.join(", ")
                )));
            }
            if !cells.iter().any(|k| k == c) {
                cells.push(c.to_string());
            }
        }
        Ok(SyncConfig {
            audit,
            cells,
            sync_checks,
            apply: args.apply,
            yes: args.yes,
            fix_drift: args.fix_drift,
            undo: args.undo,
            journal_dir: args.journal_dir,
        })
    }
}
