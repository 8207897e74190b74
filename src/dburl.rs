//! Database URLs as operators write them (including Nova's `mysql+pymysql://...`), and masking of their secrets.

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

#[derive(Debug, Clone, PartialEq)]
pub struct MySqlTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub database: String,
    pub socket: Option<PathBuf>,
    pub ssl_ca: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
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

impl DbUrl {
    pub fn parse(raw: &str) -> Result<DbUrl, String> {
        let raw = raw.trim();
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| {
            "not a URL: expected mysql://user:pass@host/db or sqlite://path".to_string()
        })?;
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
            "" => Err("URL has no scheme".into()),
            other => Err(format!(
                "unsupported database type '{other}' (cellaudit reads MySQL/MariaDB and SQLite)"
            )),
        }
    }

    fn parse_mysql(raw: &str, rest: &str) -> Result<MySqlTarget, String> {
        // The url crate only needs a scheme it can treat generically; the driver suffix is dropped first.
        let parsed = url::Url::parse(&format!("mysql://{rest}"))
            .map_err(|e| format!("malformed MySQL URL: {e}"))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let user = decode(&percent_to_plus_safe(parsed.username()));
        let password = parsed
            .password()
            .map(|p| Secret::new(decode(&percent_to_plus_safe(p))));
        let database = parsed.path().trim_start_matches('/').to_string();
        if database.is_empty() {
            return Err("MySQL URL names no database (mysql://user@host/nova)".into());
        }
        if database.contains('/') {
            return Err(format!(
                "MySQL URL path '{database}' is not a database name"
            ));
        }
        let mut t = MySqlTarget {
            host: parsed.host_str().unwrap_or("localhost").to_string(),
            port: parsed.port().unwrap_or(3306),
            user: if user.is_empty() { "root".into() } else { user },
            password,
            database,
            socket: None,
            ssl_ca: None,
            ssl_cert: None,
            ssl_key: None,
        };
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "unix_socket" | "socket" => t.socket = Some(PathBuf::from(v.as_ref())),
                "ssl_ca" | "ssl-ca" => t.ssl_ca = Some(PathBuf::from(v.as_ref())),
                "ssl_cert" | "ssl-cert" => t.ssl_cert = Some(PathBuf::from(v.as_ref())),
                "ssl_key" | "ssl-key" => t.ssl_key = Some(PathBuf::from(v.as_ref())),
                k if IGNORED_PARAMS.contains(&k) => {}
                other => {
                    return Err(format!(
                        "unknown URL parameter '{other}' in {}",
                        mask_url(raw)
                    ));
                }
            }
        }
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
            DbUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DbUrl::MySql(t) => {
                let pw = if t.password.is_some() { ":****" } else { "" };
                let place = match &t.socket {
                    Some(s) => format!("localhost/{}?socket={}", t.database, s.display()),
                    None => format!("{}:{}/{}", t.host, t.port, t.database),
                };
                format!("mysql://{}{}@{}", t.user, pw, place)
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

/// `+` in a URL userinfo is a literal plus; form decoding would turn it into a space.
fn percent_to_plus_safe(s: &str) -> String {
    s.replace('+', "%2B")
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

/// Masks the password of any `scheme://user:pass@host` URL found in `text` (transport URLs, raw input).
pub fn mask_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let span = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let mut end = tail[..span].find(['/', '?']).unwrap_or(span);
        // A password written unencoded may hold '/' or '?': then the userinfo runs to the last '@'.
        if !tail[..end].contains('@')
            && let Some(at) = tail[..span].rfind('@')
        {
            end = tail[at..span].find(['/', '?']).map_or(span, |i| at + i);
        }
        let authority = &tail[..end];
        // oslo.messaging transport URLs list several brokers: user:pass@h1:5672,user:pass@h2:5672.
        let masked: Vec<String> = authority
            .split(',')
            .map(|part| match part.rfind('@') {
                Some(at) => {
                    let userinfo = &part[..at];
                    match userinfo.split_once(':') {
                        Some((user, _)) => format!("{user}:****{}", &part[at..]),
                        None => part.to_string(),
                    }
                }
                None => part.to_string(),
            })
            .collect();
        out.push_str(&masked.join(","));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
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
}
