//! Database URLs as operators write them (including Nova's `mysql+pymysql://...`), and masking of their secrets.
//!
//! Parsing follows SQLAlchemy's URL grammar (`sqlalchemy/engine/url.py`, `_parse_url`), which is what Nova
//! itself uses for `[database] connection` and `cell_mappings.database_connection`: the password runs from
//! the first ':' of the userinfo to the next '@', so '/', '?', '#', ':', ',', spaces, quotes and newlines
//! may stand in it unencoded; an '@' must be written `%40`.
//!
//! Masking never depends on a successful parse: [`redact`] works on the structure alone (everything between
//! `://` and the last '@' may be a password) so a URL that failed to parse is still shown without its secret.
//! Error messages from [`DbUrl::parse`] are built from fixed text, parameter names and [`redact`]'s output,
//! never from the raw input.

use std::fmt;
use std::path::PathBuf;

/// A password that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// How a MySQL connection uses TLS. Any `ssl_*` URL option makes TLS required: a connection the
/// operator meant to protect never falls back to plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No `ssl_*` option: TLS when the server offers it (the MySQL client default).
    Preferred,
    /// Encrypted, the server certificate not verified (`ssl_mode=REQUIRED`, or a client certificate alone).
    Required,
    /// Encrypted and the server certificate checked against `ssl_ca` (`ssl_ca` given, `ssl_mode=VERIFY_CA`).
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host (`ssl_mode=VERIFY_IDENTITY`).
    VerifyIdentity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MySqlTarget {
    /// Host name or IP address; an IPv6 literal without its brackets.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub database: String,
    pub socket: Option<PathBuf>,
    pub ssl_ca: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
    pub tls: TlsMode,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DbUrl {
    MySql(MySqlTarget),
    Sqlite { path: PathBuf },
}

/// Query parameters that SQLAlchemy/PyMySQL URLs carry and that mean nothing for reading: accepted and ignored.
const IGNORED_PARAMS: &[&str] = &[
    "charset",
    "plugin",
    "read_default_file",
    "read_default_group",
    "binary_prefix",
    "local_infile",
    "autocommit",
    "client_flag",
    "connect_timeout",
    "read_timeout",
    "write_timeout",
    "use_unicode",
];

/// The error of a URL that cannot be used. Its text is the reason and where, with the URL redacted:
/// it is built only from fixed words, parameter names and [`redact`], so it can be printed anywhere.
fn url_error(raw: &str, what: impl fmt::Display) -> String {
    format!("{what} (in {})", redact(raw))
}

/// Shows text from an input visibly: control characters escaped, at most `max` characters.
fn visible(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Percent-decodes as Python's `urllib.parse.unquote` does for SQLAlchemy (a '+' stays a '+').
fn unquote(s: &str) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 once percent-decoded")
}

/// The parts of a SQLAlchemy URL after `scheme://`, undecoded.
struct SaParts<'a> {
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    ipv6: bool,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Option<&'a str>,
}

/// Splits as SQLAlchemy's URL regular expression does: `[user[:password]@][host][:port][/database][?query]`,
/// where the user holds no ':' or '/' and the password no '@'.
fn sa_split(rest: &str) -> Result<SaParts<'_>, &'static str> {
    let stop = rest.find([':', '/']).unwrap_or(rest.len());
    let region_user = |end: usize| rest[..end].rfind('@').map(|at| (&rest[..at], at + 1));
    let (user, password, host_start) = if rest[stop..].starts_with(':') {
        match rest[stop + 1..].find('@') {
            Some(j) => (
                Some(&rest[..stop]),
                Some(&rest[stop + 1..stop + 1 + j]),
                stop + 2 + j,
            ),
            None => match region_user(stop) {
                Some((u, h)) => (Some(u), None, h),
                None => (None, None, 0),
            },
        }
    } else {
        match region_user(stop) {
            Some((u, h)) => (Some(u), None, h),
            None => (None, None, 0),
        }
    };
    let hp = &rest[host_start..];
    let (host, ipv6, after_host) = if let Some(v6) = hp.strip_prefix('[') {
        let close = v6.find(']').ok_or("the IPv6 address has no closing ']'")?;
        let h = &v6[..close];
        if h.is_empty() || h.contains(['/', '?']) {
            return Err("the IPv6 address in brackets is not valid");
        }
        (h, true, &v6[close + 1..])
    } else {
        let end = hp.find(['/', ':', '?']).unwrap_or(hp.len());
        (&hp[..end], false, &hp[end..])
    };
    let (port, after_port) = match after_host.strip_prefix(':') {
        Some(p) => {
            let end = p.find(['/', '?']).unwrap_or(p.len());
            (Some(&p[..end]), &p[end..])
        }
        None => (None, after_host),
    };
    if !after_port.is_empty() && !after_port.starts_with(['/', '?']) {
        return Err("unexpected text after the host");
    }
    let (path, query) = match after_port.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after_port, None),
    };
    Ok(SaParts {
        user,
        password,
        host,
        ipv6,
        port,
        database: path.strip_prefix('/'),
        query,
    })
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<DbUrl, String> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(
                "not a URL (no '://'): expected mysql://user:pass@host/db or sqlite:///path".into(),
            );
        };
        if scheme.is_empty() {
            return Err(url_error(raw, "the URL has no scheme"));
        }
        let dialect = scheme.split('+').next().unwrap_or("").to_ascii_lowercase();
        match dialect.as_str() {
            "sqlite" => {
                let path = rest.split('?').next().unwrap_or("");
                if path.is_empty() {
                    return Err("sqlite URL has no path (sqlite:///abs/path.db)".into());
                }
                // SQLAlchemy writes absolute paths as sqlite:////abs; sqlx as sqlite:///abs. Both mean /abs.
                let path = if let Some(stripped) = path.strip_prefix("//") {
                    format!("/{stripped}")
                } else {
                    path.to_string()
                };
                Ok(DbUrl::Sqlite {
                    path: PathBuf::from(path),
                })
            }
            "mysql" | "mariadb" => Self::parse_mysql(raw, rest).map(DbUrl::MySql),
            _ if !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c)) =>
            {
                Err(url_error(raw, "the URL's scheme is not valid"))
            }
            other => Err(format!(
                "unsupported database type '{}' (cellaudit reads MySQL/MariaDB and SQLite)",
                visible(other, 40)
            )),
        }
    }

    fn parse_mysql(raw: &str, rest: &str) -> Result<MySqlTarget, String> {
        let p = sa_split(rest).map_err(|e| url_error(raw, format!("malformed MySQL URL: {e}")))?;
        // SQLAlchemy would take "s@host" of "pa:s@s@host" as the host: the password's '@' was not encoded.
        if p.host.contains('@')
            || p.port.is_some_and(|x| x.contains('@'))
            || p.database.is_some_and(|x| x.contains('@'))
            || p.query.is_some_and(|x| x.contains('@'))
        {
            return Err(url_error(
                raw,
                "malformed MySQL URL: an '@' follows the user:password part (write an '@' in a password as %40)",
            ));
        }
        let user = match p.user {
            Some(u) => unquote(u).map_err(|e| url_error(raw, format!("the user name {e}")))?,
            None => String::new(),
        };
        let password = match p.password {
            Some(pw) => Some(Secret::new(
                unquote(pw).map_err(|e| url_error(raw, format!("the password {e}")))?,
            )),
            None => None,
        };
        let port = match p.port {
            None | Some("") => 3306,
            Some(x) => x
                .parse::<u16>()
                .ok()
                .filter(|n| *n != 0 && x.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    url_error(
                        raw,
                        "malformed MySQL URL: the port is not a number from 1 to 65535",
                    )
                })?,
        };
        let database = p.database.unwrap_or("");
        if database.is_empty() {
            return Err(url_error(
                raw,
                "MySQL URL names no database (mysql://user@host/nova)",
            ));
        }
        if database.contains('/') {
            return Err(url_error(
                raw,
                "the MySQL URL's path is not a database name",
            ));
        }
        let host = if p.host.is_empty() {
            "localhost".to_string()
        } else {
            p.host.to_string()
        };
        if !p.ipv6 && host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(url_error(
                raw,
                "malformed MySQL URL: the host name holds a space or control character",
            ));
        }
        let mut t = MySqlTarget {
            host,
            port,
            user: if user.is_empty() { "root".into() } else { user },
            password,
            database: database.to_string(),
            socket: None,
            ssl_ca: None,
            ssl_cert: None,
            ssl_key: None,
            tls: TlsMode::Preferred,
        };
        let mut ssl_mode: Option<TlsMode> = None;
        for (k, v) in url::form_urlencoded::parse(p.query.unwrap_or("").as_bytes()) {
            let path = || PathBuf::from(v.as_ref());
            match k.as_ref() {
                "unix_socket" | "socket" => t.socket = Some(path()),
                "ssl_ca" | "ssl-ca" => t.ssl_ca = Some(path()),
                "ssl_cert" | "ssl-cert" => t.ssl_cert = Some(path()),
                "ssl_key" | "ssl-key" => t.ssl_key = Some(path()),
                "ssl_mode" | "ssl-mode" => {
                    ssl_mode = Some(match v.to_ascii_uppercase().as_str() {
                        "REQUIRED" => TlsMode::Required,
                        "VERIFY_CA" => TlsMode::VerifyCa,
                        "VERIFY_IDENTITY" => TlsMode::VerifyIdentity,
                        _ => {
                            return Err(url_error(
                                raw,
                                "ssl_mode must be REQUIRED, VERIFY_CA or VERIFY_IDENTITY (an ssl option never allows plaintext)",
                            ));
                        }
                    })
                }
                k if IGNORED_PARAMS.contains(&k) => {}
                other if other.to_ascii_lowercase().starts_with("ssl") => {
                    return Err(url_error(
                        raw,
                        format!(
                            "unsupported TLS parameter '{}' (cellaudit knows ssl_ca, ssl_cert, ssl_key, ssl_mode); refusing rather than connecting without the TLS it asks for",
                            visible(other, 40)
                        ),
                    ));
                }
                other => {
                    return Err(url_error(
                        raw,
                        format!("unknown URL parameter '{}'", visible(other, 40)),
                    ));
                }
            }
        }
        if t.ssl_cert.is_some() != t.ssl_key.is_some() {
            return Err(url_error(
                raw,
                "ssl_cert and ssl_key go together: give both or neither",
            ));
        }
        let any_ssl = t.ssl_ca.is_some() || t.ssl_cert.is_some() || ssl_mode.is_some();
        t.tls = match ssl_mode {
            Some(TlsMode::VerifyCa | TlsMode::VerifyIdentity) if t.ssl_ca.is_none() => {
                return Err(url_error(
                    raw,
                    "ssl_mode VERIFY_CA/VERIFY_IDENTITY needs ssl_ca",
                ));
            }
            Some(TlsMode::Required) if t.ssl_ca.is_some() => TlsMode::VerifyCa,
            Some(m) => m,
            None if t.ssl_ca.is_some() => TlsMode::VerifyCa,
            None if any_ssl => TlsMode::Required,
            None => TlsMode::Preferred,
        };
        Ok(t)
    }

    pub fn set_password(&mut self, pw: Secret) -> Result<(), String> {
        match self {
            DbUrl::MySql(t) => {
                t.password = Some(pw);
                Ok(())
            }
            DbUrl::Sqlite { .. } => Err("a password was given for an SQLite database".into()),
        }
    }

    pub fn password(&self) -> Option<&Secret> {
        match self {
            DbUrl::MySql(t) => t.password.as_ref(),
            DbUrl::Sqlite { .. } => None,
        }
    }

    /// A printable form: the password is never shown, only whether there is one.
    pub fn display_masked(&self) -> String {
        match self {
            DbUrl::Sqlite { path } => {
                format!("sqlite://{}", visible(&path.display().to_string(), 4096))
            }
            DbUrl::MySql(t) => {
                let pw = if t.password.is_some() { ":****" } else { "" };
                let host = if t.host.contains(':') {
                    format!("[{}]", t.host)
                } else {
                    t.host.clone()
                };
                let place = match &t.socket {
                    Some(s) => format!("localhost/{}?socket={}", t.database, s.display()),
                    None => format!("{host}:{}/{}", t.port, t.database),
                };
                let user = if t.user.contains(['@', ':', '/']) {
                    url::form_urlencoded::byte_serialize(t.user.as_bytes()).collect()
                } else {
                    t.user.clone()
                };
                visible(&format!("mysql://{user}{pw}@{place}"), 4096)
            }
        }
    }

    /// The database server this URL reaches, for bounding reads per server: `host:port` (host lowercased) or the
    /// socket path. Two spellings of one server (an IP and a name) are not recognised as one.
    pub fn server_key(&self) -> String {
        match self {
            DbUrl::Sqlite { path } => format!("sqlite:{}", path.display()),
            DbUrl::MySql(t) => match &t.socket {
                Some(s) => format!("socket:{}", s.display()),
                None => format!("{}:{}", t.host.to_ascii_lowercase(), t.port),
            },
        }
    }

    /// The database itself: its server and name (no user, no password), to notice two cells sharing one.
    pub fn database_key(&self) -> String {
        match self {
            DbUrl::Sqlite { .. } => self.server_key(),
            DbUrl::MySql(t) => format!("{}/{}", self.server_key(), t.database),
        }
    }

    /// Removes this URL's password from any text (driver errors, echoed input) before it is shown.
    pub fn scrub(&self, text: &str) -> String {
        scrub_secret(text, self.password())
    }
}

pub fn scrub_secret(text: &str, secret: Option<&Secret>) -> String {
    match secret {
        Some(s) if !s.expose().is_empty() => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(s.expose().as_bytes()).collect();
            text.replace(s.expose(), "****").replace(&encoded, "****")
        }
        _ => text.to_string(),
    }
}

/// A user name as shown next to a masked password: itself when it is plainly a name, else hidden.
fn shown_user(u: &str) -> &str {
    if u.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.%+{}".contains(c))
    {
        u
    } else {
        "****"
    }
}

/// Host, port, path and query of a URL, after its userinfo: query values of password-like keys and
/// a port that is not a number (in "user:pw/host" the '@' was forgotten) are hidden.
fn redact_after_userinfo(after: &str) -> String {
    let (hostport, tail) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
    let hostport = hostport
        .split(',')
        .map(|hp| {
            let port_at = if hp.starts_with('[') {
                hp.find("]:").map(|i| i + 1)
            } else {
                hp.find(':')
            };
            match port_at {
                Some(i) if !hp[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{}:****", &hp[..i])
                }
                _ => hp.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().contains("pass") => format!("{k}=****"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{hostport}{tail}")
}

/// The brokers of an oslo.messaging transport URL's netloc, split as `TransportURL.parse` splits them
/// (oslo_messaging/transport.py: on ',' and then each at its last '@'), but only where that split is
/// unambiguous. A ',' or '@' written unencoded in a password makes pieces of the password look like
/// hosts (`nova:1,LEAKME1:2,x@h`); oslo.messaging warns about such mixed lists, cellaudit refuses them.
/// Returns `(user, has_password, hostport)` per broker, or `None` when the list is ambiguous.
pub fn split_hosts(netloc: &str) -> Option<Vec<(Option<&str>, bool, &str)>> {
    let mut out = Vec::new();
    for piece in netloc.split(',').filter(|p| !p.is_empty()) {
        match piece.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, has_pw) = match userinfo.split_once(':') {
                    Some((u, _)) => (u, true),
                    None => (userinfo, false),
                };
                out.push((Some(user), has_pw, hostport));
            }
            None => out.push((None, false, piece)),
        }
    }
    if out.len() > 1 {
        // All brokers with user:password or none (oslo.messaging warns otherwise), and one user for all.
        let with = out.iter().filter(|(_, pw, _)| *pw).count();
        let users: std::collections::BTreeSet<_> = out.iter().map(|(u, _, _)| *u).collect();
        if (with != 0 && with != out.len()) || users.len() > 1 {
            return None;
        }
        // A host that is not a plain name or address may be a piece of a password.
        let plain = |hp: &str| {
            hp.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        };
        if !out.iter().all(|(_, _, hp)| plain(hp)) {
            return None;
        }
    }
    Some(out)
}

/// A URL (database or transport) made safe to show: the userinfo is replaced by `user:****` by
/// structure alone, so this holds for input that did not parse. Everything between `://` and the
/// last '@' counts as userinfo; a multi-broker list is shown broker by broker only when
/// [`split_hosts`] finds it unambiguous. Text that is not a URL at all is not echoed.
pub fn redact(raw: &str) -> String {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("://") else {
        return "<not a URL>".into();
    };
    // `{scheme}` and the like are cell_mappings template fields, not secrets.
    let scheme = if !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._{}".contains(c))
    {
        scheme
    } else {
        "?"
    };
    // SQLite URLs name a file and carry no password; a path may hold '@' or ':'.
    if scheme.to_ascii_lowercase().starts_with("sqlite") {
        return visible(&format!("{scheme}://{rest}"), 4096);
    }
    let shown = match rest.rfind('@') {
        None => redact_after_userinfo(rest),
        Some(at) => {
            let netloc_end = rest[at..]
                .find(['/', '?', '#'])
                .map_or(rest.len(), |i| at + i);
            let netloc = &rest[..netloc_end];
            match split_hosts(netloc) {
                Some(hosts) if hosts.len() > 1 => {
                    let list: Vec<String> = hosts
                        .iter()
                        .map(|(u, pw, hp)| {
                            let user = u.map(|u| {
                                format!("{}{}@", shown_user(u), if *pw { ":****" } else { "" })
                            });
                            format!("{}{}", user.unwrap_or_default(), redact_after_userinfo(hp))
                        })
                        .collect();
                    format!(
                        "{}{}",
                        list.join(","),
                        redact_after_userinfo(&rest[netloc_end..])
                    )
                }
                _ => {
                    let userinfo = &rest[..at];
                    let user = match userinfo.split_once(':') {
                        Some((u, _)) => format!("{}:****", shown_user(u)),
                        None => shown_user(userinfo).to_string(),
                    };
                    format!("{user}@{}", redact_after_userinfo(&rest[at + 1..]))
                }
            }
        }
    };
    visible(&format!("{scheme}://{shown}"), 4096)
}

/// Masks a URL that free text ends with (`... scheme://...`): everything from the scheme on is shown as
/// [`redact`] shows it, so a password holding spaces, quotes or newlines cannot end the URL early.
pub fn mask_url(text: &str) -> String {
    match text.find("://") {
        None => text.to_string(),
        Some(pos) => {
            let start = text[..pos]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-._".contains(c)))
                .map_or(0, |i| i + c_len(text, i));
            format!("{}{}", &text[..start], redact(&text[start..]))
        }
    }
}

fn c_len(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}
#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(raw: &str) -> MySqlTarget {
        match DbUrl::parse(raw).unwrap() {
            DbUrl::MySql(t) => t,
            other => panic!("expected mysql, got {other:?}"),
        }
    }

    #[test]
    fn nova_conf_connection_is_accepted_as_written() {
        let t = mysql("mysql+pymysql://nova:s3cr%40t@db.example.org:3307/nova?charset=utf8");
        assert_eq!(t.user, "nova");
        assert_eq!(t.password.as_ref().unwrap().expose(), "s3cr@t");
        assert_eq!(t.host, "db.example.org");
        assert_eq!(t.port, 3307);
        assert_eq!(t.database, "nova");
        assert_eq!(t.socket, None);
    }

    #[test]
    fn plus_in_password_stays_a_plus() {
        let t = mysql("mysql://nova:a+b@h/nova");
        assert_eq!(t.password.unwrap().expose(), "a+b");
    }

    #[test]
    fn unix_socket_parameter_is_used() {
        let t =
            mysql("mysql+pymysql://root@localhost/nova_cell1?unix_socket=/run/mysqld/mysqld.sock");
        assert_eq!(t.socket, Some(PathBuf::from("/run/mysqld/mysqld.sock")));
        assert_eq!(t.password, None);
        assert_eq!(t.port, 3306);
    }

    #[test]
    fn unknown_parameter_is_rejected_without_leaking_the_password() {
        let err = DbUrl::parse("mysql://nova:hunter2@h/nova?bogus=1").unwrap_err();
        assert!(err.contains("unknown URL parameter 'bogus'"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn sqlite_paths_in_both_spellings() {
        assert_eq!(
            DbUrl::parse("sqlite:////var/lib/nova/nova.sqlite").unwrap(),
            DbUrl::Sqlite {
                path: PathBuf::from("/var/lib/nova/nova.sqlite")
            }
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite {
                path: PathBuf::from("/tmp/x.db")
            }
        );
        assert_eq!(
            DbUrl::parse("sqlite://rel.db").unwrap(),
            DbUrl::Sqlite {
                path: PathBuf::from("rel.db")
            }
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(
            DbUrl::parse("nova.example.org")
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(
            DbUrl::parse("postgresql://u@h/nova")
                .unwrap_err()
                .contains("unsupported database type 'postgresql'")
        );
        assert!(
            DbUrl::parse("mysql://u@h/")
                .unwrap_err()
                .contains("names no database")
        );
        assert!(
            DbUrl::parse("mysql://u@h:notaport/nova")
                .unwrap_err()
                .contains("malformed")
        );
    }

    #[test]
    fn masked_display_hides_password() {
        let u = DbUrl::parse("mysql://nova:hunter2@db:3306/nova").unwrap();
        assert_eq!(u.display_masked(), "mysql://nova:****@db:3306/nova");
        assert_eq!(u.scrub("Access denied (hunter2)"), "Access denied (****)");
    }

    #[test]
    fn mask_url_masks_transport_urls() {
        assert_eq!(
            mask_url("rabbit://guest:guest@mq1:5672,guest:pw@mq2:5672/ vhost"),
            "rabbit://guest:****@mq1:5672,guest:****@mq2:5672/ vhost"
        );
        assert_eq!(
            mask_url("mysql://u:p@h/db and mysql://h/db"),
            "mysql://u:****@h/db and mysql://h/db"
        );
    }

    #[test]
    fn mask_url_masks_an_unencoded_slash_or_question_mark_in_the_password() {
        assert_eq!(
            mask_url("mysql://nova:a/b?c@db:3306/nova?charset=utf8 next"),
            "mysql://nova:****@db:3306/nova?charset=utf8 next"
        );
        assert_eq!(mask_url("sqlite:///tmp/a@b.db"), "sqlite:///tmp/a@b.db");
    }

    #[test]
    fn passwords_with_url_bytes_parse_as_sqlalchemy_parses_them() {
        // SQLAlchemy's password runs from the user's ':' to the next '@'.
        for pw in [
            "a/b?c#d",
            "sp ace",
            "q'u\"ote",
            "co,mma",
            "new\nline",
            "co:lon",
            "pc%zz",
        ] {
            let t = mysql(&format!(
                "mysql+pymysql://nova:{pw}@db:3307/nova?charset=utf8"
            ));
            assert_eq!(t.password.as_ref().unwrap().expose(), pw, "{pw:?}");
            assert_eq!(
                (t.host.as_str(), t.port, t.database.as_str()),
                ("db", 3307, "nova")
            );
        }
        // An '@' must be encoded; unencoded, SQLAlchemy would take part of the password as the host.
        let err = DbUrl::parse("mysql://nova:p@ss@db/nova").unwrap_err();
        assert!(err.contains("%40") && !err.contains("ss@"), "{err}");
        assert_eq!(
            mysql("mysql://nova:p%40ss@db/nova")
                .password
                .unwrap()
                .expose(),
            "p@ss"
        );
    }

    #[test]
    fn ipv6_literals_lose_their_brackets() {
        let t = mysql("mysql://u@[::1]:3306/nova");
        assert_eq!((t.host.as_str(), t.port), ("::1", 3306));
        assert_eq!(
            DbUrl::MySql(t).display_masked(),
            "mysql://u@[::1]:3306/nova"
        );
    }

    #[test]
    fn any_ssl_option_makes_tls_required() {
        assert_eq!(mysql("mysql://u@h/n").tls, TlsMode::Preferred);
        assert_eq!(
            mysql("mysql://u@h/n?ssl_cert=/c&ssl_key=/k").tls,
            TlsMode::Required
        );
        assert_eq!(mysql("mysql://u@h/n?ssl_ca=/ca").tls, TlsMode::VerifyCa);
        assert_eq!(
            mysql("mysql://u@h/n?ssl_ca=/ca&ssl_mode=VERIFY_IDENTITY").tls,
            TlsMode::VerifyIdentity
        );
        assert!(DbUrl::parse("mysql://u@h/n?ssl_key=/k").is_err());
        assert!(DbUrl::parse("mysql://u@h/n?ssl_mode=PREFERRED").is_err());
    }

    #[test]
    fn parse_errors_show_where_without_the_password() {
        let err = DbUrl::parse("mysql://nova:a b,c@db:33o6/nova?ssl_mode=REQUIRED").unwrap_err();
        assert_eq!(
            err,
            "malformed MySQL URL: the port is not a number from 1 to 65535 (in mysql://nova:****@db:****/nova?ssl_mode=REQUIRED)"
        );
    }

    #[test]
    fn redact_works_on_structure_alone() {
        assert_eq!(
            redact("mysql://nova:a b'c\"d,e\nf@db/nova?x"),
            "mysql://nova:****@db/nova?x"
        );
        assert_eq!(redact("nova:pw@db/nova"), "<not a URL>");
        assert_eq!(
            redact("rabbit://u:p@h1:5672,u:q@h2:5672/vhost"),
            "rabbit://u:****@h1:5672,u:****@h2:5672/vhost"
        );
        // A ',' in a password: no piece of it is shown as a broker.
        assert_eq!(
            redact("rabbit://nova:1,LEAKME1:2,x@h:1/"),
            "rabbit://nova:****@h:1/"
        );
        // A forgotten '@': what stands in the port's place is hidden.
        assert_eq!(redact("mysql://nova:pw/db"), "mysql://nova:****/db");
        assert_eq!(
            redact("mysql://u@h/n?password=x&charset=utf8"),
            "mysql://u@h/n?password=****&charset=utf8"
        );
    }
}
