//! Cells v2 topology: the API database from `--api-db` or nova.conf, and the cells it lists in `cell_mappings`, with their
//! connections rendered the way Nova renders them and the operator's overrides applied.

use crate::checks::v2::{self as v2checks, V2CheckDef};
use crate::config::{CellSpec, ConfigError, split_pair};
use crate::db::Timeouts;
use crate::dburl::{DbUrl, redact};
use crate::findings::Role;
use crate::render::Format;
use crate::v2::CellMapping;
use std::collections::BTreeMap;
use std::path::Path;

/// Name the API database is reported under.
pub const API_NAME: &str = "api";

/// What a cells v2 command line asks for, validated; the cells themselves are found at run time.
pub struct V2Config {
    pub api: CellSpec,
    /// `[database] connection`, the source of a templated `database_connection`'s variables.
    pub template_source: Option<String>,
    /// `--cell`: names or uuids to audit; empty means every cell.
    pub only: Vec<String>,
    /// `--cell-url`: name or uuid → URL used instead of `cell_mappings.database_connection`.
    pub overrides: BTreeMap<String, String>,
    pub checks: Vec<&'static V2CheckDef>,
    pub default_az: String,
    pub timeouts: Timeouts,
    pub format: Format,
    /// Where placement is and which placement checks run (set by `config::v2_config`).
    pub placement: crate::placement::PlacementConfig,
    /// Changes this recent are in flight, not drift (a cross-cell resize's swap, a build).
    pub lag: std::time::Duration,
    /// The time `lag` counts back from (epoch seconds, UTC); `None` is now.
    pub as_of: Option<i64>,
    /// `--jobs` / `--jobs-per-server`: databases read at once, overall and per server.
    pub jobs: usize,
    pub jobs_per_server: usize,
    /// `upgrade-check --target-release`.
    pub target: Option<crate::release::Release>,
}

// Written out because `template_source` and `overrides` are URLs that carry passwords.
impl std::fmt::Debug for V2Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let overrides: BTreeMap<&str, String> = self
            .overrides
            .iter()
            .map(|(k, v)| (k.as_str(), redact(v)))
            .collect();
        f.debug_struct("V2Config")
            .field("api", &self.api)
            .field(
                "template_source",
                &self.template_source.as_deref().map(redact),
            )
            .field("only", &self.only)
            .field("overrides", &overrides)
            .field("checks", &self.checks)
            .field("default_az", &self.default_az)
            .field("timeouts", &self.timeouts)
            .field("format", &self.format)
            .field("placement", &self.placement)
            .field("lag", &self.lag)
            .field("as_of", &self.as_of)
            .field("jobs", &self.jobs)
            .field("jobs_per_server", &self.jobs_per_server)
            .field("target", &self.target)
            .finish()
    }
}

/// The values cells v2 needs from the command line, whichever command carries them.
pub struct V2Inputs<'a> {
    pub api_db: Option<&'a str>,
    pub nova_conf: Option<&'a Path>,
    pub database_connection: Option<&'a str>,
    pub cells: &'a [String],
    pub cell_urls: &'a [String],
    pub default_az: Option<&'a str>,
    pub checks: &'a [String],
    pub timeouts: Timeouts,
    pub format: Format,
}

/// The parts of nova.conf cellaudit reads: `section → key → value`, the last assignment winning as in oslo.config.
pub(crate) fn parse_nova_conf(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = t.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

/// A cell (or the API DB) to read, with its URL parsed; a bad URL stays an error so the rest is still audited.
pub fn spec(name: &str, role: Role, raw: &str) -> CellSpec {
    let url = DbUrl::parse(raw).map_err(|e| format!("cell '{name}': {e}"));
    let shown = match &url {
        Ok(u) => u.display_masked(),
        Err(_) => redact(raw),
    };
    CellSpec {
        name: name.to_string(),
        role,
        url,
        shown,
    }
}

impl V2Config {
    pub fn from_inputs(i: &V2Inputs<'_>) -> Result<V2Config, ConfigError> {
        let conf = match i.nova_conf {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ConfigError(format!("cannot read nova.conf {}: {e}", p.display()))
                })?;
                parse_nova_conf(&text)
            }
            None => BTreeMap::new(),
        };
        let get = |section: &str, key: &str| {
            conf.get(section)
                .and_then(|s| s.get(key))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let api_url = match (i.api_db, i.nova_conf) {
            (Some(u), _) => u.to_string(),
            (None, Some(p)) => get("api_database", "connection").ok_or_else(|| {
                ConfigError(format!(
                    "{} has no [api_database] connection; give --api-db URL",
                    p.display()
                ))
            })?,
            (None, None) => {
                return Err(ConfigError(
                    "no API database: give --api-db URL or --nova-conf PATH".into(),
                ));
            }
        };
        let api = spec(API_NAME, Role::Api, &api_url);
        if let Err(e) = &api.url {
            return Err(ConfigError(format!("API database: {e}")));
        }
        let mut overrides = BTreeMap::new();
        for raw in i.cell_urls {
            let (cell, url) = split_pair("--cell-url", "NAME=URL or UUID=URL", raw)?;
            if overrides
                .insert(cell.to_string(), url.to_string())
                .is_some()
            {
                return Err(ConfigError(format!("--cell-url names cell '{cell}' twice")));
            }
        }
        let default_az = i
            .default_az
            .map(str::to_string)
            .or_else(|| get("DEFAULT", "default_availability_zone"))
            .unwrap_or_else(|| "nova".to_string());
        if default_az.trim().is_empty() {
            return Err(ConfigError("--default-az must not be empty".into()));
        }
        Ok(V2Config {
            api,
            template_source: i
                .database_connection
                .map(str::to_string)
                .or_else(|| get("database", "connection")),
            only: i.cells.iter().map(|c| c.trim().to_string()).collect(),
            overrides,
            checks: select(i.checks)?,
            default_az,
            timeouts: i.timeouts,
            format: i.format,
            placement: Default::default(),
            lag: crate::engine::DEFAULT_LAG,
            as_of: None,
            jobs: crate::limits::DEFAULT_JOBS,
            jobs_per_server: crate::limits::DEFAULT_PER_SERVER,
            target: None,
        })
    }
}

fn select(names: &[String]) -> Result<Vec<&'static V2CheckDef>, ConfigError> {
    if names.is_empty() {
        return Ok(v2checks::V2_CHECKS.iter().collect());
    }
    let mut out: Vec<&'static V2CheckDef> = Vec::new();
    for n in names {
        let c = v2checks::find(n.trim()).ok_or_else(|| {
            let known: Vec<&str> = v2checks::V2_CHECKS
                .iter()
                .chain(v2checks::V2_OPT_IN)
                .map(|c| c.name.as_str())
                .collect();
            ConfigError(format!(
                "unknown cells v2 check '{}' (known: {})",
                n.trim(),
                known.join(", ")
            ))
        })?;
        if !out.iter().any(|o| o.name == c.name) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The parts of a URL Nova offers a template, as Python's `urllib.parse.urlparse` splits them
/// (`CellMapping._format_url`): nothing is percent-decoded, the host is lowercased, and a missing
/// part formats as Python's `None`.
fn template_vars(default: &str) -> Result<BTreeMap<String, String>, String> {
    let none = || "None".to_string();
    let (scheme, rest) = match default.split_once(':') {
        Some((s, r))
            if !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_ascii_lowercase(), r)
        }
        _ => (String::new(), default),
    };
    let (netloc, after) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find(['/', '?', '#']).unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    // An '@' after the netloc means a password holding an unencoded '/', '?' or '#': Python's urlparse
    // (and so Nova) would cut the password there and take a piece of it for the host.
    if !netloc.is_empty() && after.contains('@') {
        return Err("its password holds a '/', '?' or '#' that is not percent-encoded, so Nova's urlparse splits it (write %2F, %3F, %23)".into());
    }
    let (before_frag, fragment) = after.split_once('#').unwrap_or((after, ""));
    let (path, query) = before_frag.split_once('?').unwrap_or((before_frag, ""));
    let mut v = BTreeMap::new();
    v.insert("scheme".into(), scheme);
    v.insert("path".into(), path.trim_start_matches('/').to_string());
    v.insert("query".into(), query.to_string());
    v.insert("fragment".into(), fragment.to_string());
    let first = parse_netloc(netloc)?;
    for (k, val) in &first {
        v.insert(
            (*k).to_string(),
            if *k == "hostname" {
                val.clone()
                    .map(|h| h.to_ascii_lowercase())
                    .unwrap_or_else(none)
            } else {
                val.clone().unwrap_or_else(none)
            },
        );
    }
    // oslo.messaging-style lists of hosts get indexed keys too (username1, hostname1, ...).
    if netloc.contains(',') {
        for (n, part) in netloc.split(',').enumerate() {
            for (k, val) in parse_netloc(part)? {
                v.insert(format!("{k}{}", n + 1), val.unwrap_or_else(none));
            }
        }
    }
    Ok(v)
}

fn parse_netloc(netloc: &str) -> Result<Vec<(&'static str, Option<String>)>, String> {
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, netloc),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
            None => (Some(u.to_string()), None),
        },
        None => (None, None),
    };
    let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
        let (h, tail) = r.split_once(']').ok_or("unbalanced '[' in host")?;
        (h.to_string(), tail.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let port = match port.filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<u16>()
                // Not quoted: in a URL without '@' this may be the password.
                .map_err(|_| "port is not a number".to_string())?
                .to_string(),
        ),
        None => None,
    };
    Ok(vec![
        ("username", user),
        ("password", password),
        ("hostname", Some(host).filter(|h| !h.is_empty())),
        ("port", port),
    ])
}

/// Renders a cell mapping's `database_connection` as `CellMapping.format_db_url` does: Python's
/// `str.format` with the parts of `[database] connection`. Where Nova would log an error and use the
/// text as written, which cannot connect, this returns the reason instead.
fn render_db_url(template: &str, source: Option<&str>) -> Result<String, String> {
    if !template.contains(['{', '}']) {
        return Ok(template.to_string());
    }
    let Some(source) = source else {
        return Err("database_connection is a template, but no [database] connection is known to render it (give --nova-conf or --database-connection)".into());
    };
    let vars = template_vars(source)
        .map_err(|e| format!("cannot take apart [database] connection: {e}"))?;
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => field.push(ch),
                        None => {
                            return Err("database_connection template has an unclosed '{'".into());
                        }
                    }
                }
                let value = vars.get(field.as_str()).ok_or_else(|| {
                    format!("database_connection template names '{{{field}}}', which Nova does not provide")
                })?;
                out.push_str(value);
            }
            '}' => return Err("database_connection template has a single '}'".into()),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// How a cell is reported: its mapping's name, or its uuid when the name is missing or shared.
pub fn cell_names(mappings: &[CellMapping]) -> Vec<String> {
    mappings
        .iter()
        .map(|m| match &m.name {
            Some(n)
                if n != API_NAME
                    && mappings
                        .iter()
                        .filter(|o| o.name.as_ref() == Some(n))
                        .count()
                        == 1 =>
            {
                n.clone()
            }
            _ => m.uuid.clone(),
        })
        .collect()
}

/// Which cells `--cell` and `--cell-url` refer to; a value matching no mapping is an error.
pub fn resolve(
    cfg: &V2Config,
    mappings: &[CellMapping],
    names: &[String],
) -> Result<(Vec<bool>, Vec<Option<String>>), String> {
    let matches = |want: &str, i: usize| {
        names[i] == want || mappings[i].uuid == want || mappings[i].name.as_deref() == Some(want)
    };
    let known = || names.join(", ");
    let mut audited = vec![cfg.only.is_empty(); mappings.len()];
    for want in &cfg.only {
        let hits: Vec<usize> = (0..mappings.len()).filter(|i| matches(want, *i)).collect();
        match hits.len() {
            0 => {
                return Err(format!(
                    "--cell '{want}' matches no cell mapping (cells: {})",
                    known()
                ));
            }
            1 => audited[hits[0]] = true,
            _ => {
                return Err(format!(
                    "--cell '{want}' matches several cells; give the uuid"
                ));
            }
        }
    }
    let mut urls = vec![None; mappings.len()];
    for (want, url) in &cfg.overrides {
        let hits: Vec<usize> = (0..mappings.len()).filter(|i| matches(want, *i)).collect();
        match hits.len() {
            0 => {
                // A URL given without NAME= splits at its query's '=' into a "name" holding the password.
                return Err(format!(
                    "--cell-url {:?} matches no cell mapping (cells: {})",
                    want,
                    known()
                ));
            }
            1 => urls[hits[0]] = Some(url.clone()),
            _ => {
                return Err(format!(
                    "--cell-url '{want}' matches several cells; give the uuid"
                ));
            }
        }
    }
    Ok((audited, urls))
}

/// The spec of one cell: the override as given, else its mapping's connection rendered as Nova would.
pub fn cell_spec(
    name: &str,
    mapping: &CellMapping,
    override_url: Option<&str>,
    template_source: Option<&str>,
) -> CellSpec {
    let role = if mapping.is_cell0() {
        Role::Cell0
    } else {
        Role::Cell
    };
    if let Some(u) = override_url {
        return spec(name, role, u);
    }
    let Some(raw) = mapping
        .database_connection
        .as_deref()
        .filter(|s| !s.is_empty())
    else {
        return CellSpec {
            name: name.to_string(),
            role,
            url: Err(format!(
                "cell '{name}': cell_mappings.database_connection is empty"
            )),
            shown: String::new(),
        };
    };
    match render_db_url(raw, template_source) {
        Ok(url) => spec(name, role, &url),
        Err(e) => CellSpec {
            name: name.to_string(),
            role,
            url: Err(format!("cell '{name}': {e}")),
            shown: redact(raw),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_like_nova() {
        let src = "mysql+pymysql://nova:s3cr%40t@DB.Example.org:3307/nova?charset=utf8";
        assert_eq!(
            render_db_url(
                "{scheme}://{username}:{password}@{hostname}:{port}/nova_cell1?{query}",
                Some(src)
            )
            .unwrap(),
            "mysql+pymysql://nova:s3cr%40t@db.example.org:3307/nova_cell1?charset=utf8"
        );
        assert_eq!(
            render_db_url(
                "{scheme}://{username}@{hostname}/{path}_cell2",
                Some("mysql://root@localhost/nova")
            )
            .unwrap(),
            "mysql://root@localhost/nova_cell2"
        );
        // Python formats a missing part as None, and {{ }} are literal braces.
        assert_eq!(
            render_db_url("x://{hostname}:{port}/{{db}}", Some("mysql://h/nova")).unwrap(),
            "x://h:None/{db}"
        );
        assert_eq!(
            render_db_url(
                "{scheme}://{username1}@{hostname2}/x",
                Some("rabbit://a:p@h1:5672,b:q@h2:5673/v")
            )
            .unwrap(),
            "rabbit://a@h2/x"
        );
        assert_eq!(
            render_db_url("mysql://u@h/plain", None).unwrap(),
            "mysql://u@h/plain"
        );
    }

    #[test]
    fn templates_that_nova_cannot_render_say_why() {
        assert!(
            render_db_url("{scheme}://h/x", None)
                .unwrap_err()
                .contains("no [database] connection")
        );
        assert!(
            render_db_url("{bogus}://h/x", Some("mysql://h/n"))
                .unwrap_err()
                .contains("'{bogus}'")
        );
        assert!(
            render_db_url("{scheme://h/x", Some("mysql://h/n"))
                .unwrap_err()
                .contains("unclosed")
        );
    }

    #[test]
    fn nova_conf_sections_and_last_value_win() {
        let c = parse_nova_conf(
            "[DEFAULT]\ndefault_availability_zone = az1\n# c\n[api_database]\nconnection = mysql://a@h/nova_api\nconnection=mysql://b@h/nova_api\n[database]\nconnection = mysql://c@h/nova\n",
        );
        assert_eq!(c["api_database"]["connection"], "mysql://b@h/nova_api");
        assert_eq!(c["database"]["connection"], "mysql://c@h/nova");
        assert_eq!(c["DEFAULT"]["default_availability_zone"], "az1");
    }
}
