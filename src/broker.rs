//! Message-broker liveness for cells v1: parses the `cells` rows' oslo.messaging transport URLs and
//! probes every AMQP 0-9-1 broker they name (TCP connect, protocol header, `connection.start`).
//!
//! This is the audit's only network I/O besides the databases; the engine runs it before the checks,
//! and the `brokers` check only turns its results into findings. A transport URL carries the
//! broker password: nothing here keeps, prints or returns it.

use crate::checks::CellView;
use crate::db::Row;
use crate::findings::BrokerStatus;
use crate::queries;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// oslo.messaging's rabbit driver default port.
pub const DEFAULT_PORT: u16 = 5672;
/// What a client sends first to speak AMQP 0-9-1.
pub const PROTOCOL_HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";
/// A `connection.start` is a few hundred bytes; anything far larger is not an AMQP server talking.
const MAX_START_FRAME: u32 = 1 << 20;

/// One broker host of a transport URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// What a transport URL says about reaching the broker, without its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `rabbit://` (or the old `kombu://` alias): AMQP 0-9-1. `tls` when the URL asks for SSL.
    Amqp { endpoints: Vec<Endpoint>, tls: bool },
    /// Another oslo.messaging driver (`amqp://` is AMQP 1.0, `kafka://`, `fake://`): not probed.
    Other { scheme: String },
}

/// Parses an oslo.messaging transport URL: `driver://[user:pass@]host[:port][,[user:pass@]host[:port]...]/vhost?query`.
/// Errors describe the problem without quoting the URL, which holds a password.
pub fn parse_transport_url(raw: &str) -> Result<Transport, String> {
    let raw = raw.trim();
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| "transport_url is not a URL (no '://')".to_string())?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "rabbit" && scheme != "kombu" {
        return Ok(Transport::Other { scheme });
    }
    // The netloc ends at the first '/', '?' or '#' after the last '@': a password written unencoded may
    // hold any of them, and cutting earlier would show a piece of it as a broker.
    let end = {
        let from = rest.rfind('@').unwrap_or(0);
        rest[from..]
            .find(['/', '?', '#'])
            .map_or(rest.len(), |i| from + i)
    };
    let (netloc, tail) = rest.split_at(end);
    let query = tail.split_once('?').map_or("", |(_, q)| q);
    let tls = query.split('&').any(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        k.eq_ignore_ascii_case("ssl")
            && ["1", "true", "yes", "on"].contains(&v.to_ascii_lowercase().as_str())
    });
    let mut endpoints = Vec::new();
    // Split as oslo.messaging's TransportURL.parse does, refusing the lists where a password's own ','
    // or '@' would make a piece of it pass for a broker (which would then be shown and looked up in DNS).
    let hosts = match crate::dburl::split_hosts(netloc) {
        Some(h) => h,
        // One '@' in all: the password holds ','; only what follows the '@' names brokers.
        None if netloc.matches('@').count() == 1 => netloc
            .rsplit_once('@')
            .map_or("", |(_, h)| h)
            .split(',')
            .map(|h| (None, false, h))
            .collect(),
        None => {
            return Err("the broker list is ambiguous: brokers with and without user:password, different users, or a ',' or '@' in a password not written as %2C or %40; not probed".into());
        }
    };
    for (i, (_, _, hostport)) in hosts.into_iter().enumerate() {
        if hostport.is_empty() {
            continue;
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("broker {} has an unclosed '[' in its address", i + 1))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(format!("broker {} has junk after its address", i + 1)),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("broker {} has no host name", i + 1));
        }
        // Not echoed: text that is no host name may be a piece of a password.
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c))
        {
            return Err(format!("broker {} has an invalid host name", i + 1));
        }
        let port = match port {
            None | Some("") => DEFAULT_PORT,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("broker {} ({host}) has an invalid port", i + 1))?,
        };
        endpoints.push(Endpoint {
            host: host.to_string(),
            port,
        });
    }
    if endpoints.is_empty() {
        return Err("transport_url names no broker host".into());
    }
    Ok(Transport::Amqp { endpoints, tls })
}

/// How one broker answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Answer {
    /// Spoke AMQP 0-9-1; `server` is its product and version when it said so (e.g. "RabbitMQ 3.12.1").
    Up { server: Option<String> },
    /// Accepted TCP on a TLS port; the AMQP exchange, which needs TLS, was not attempted.
    TcpOnly,
    /// Did not answer as an AMQP 0-9-1 broker; says why.
    Down { reason: String },
}

impl Answer {
    pub fn is_up(&self) -> bool {
        !matches!(self, Answer::Down { .. })
    }
}

/// Probes one broker: TCP connect, then (without TLS) the protocol header and the server's
/// `connection.start` (frame type 1, channel 0, class 10, method 10). `timeout` bounds the
/// connection and, separately, the wait for the answer. The connection is dropped right after:
/// nothing is authenticated, so no credentials are ever sent.
pub async fn probe(ep: &Endpoint, tls: bool, timeout: Duration) -> Answer {
    match probe_inner(ep, tls, timeout).await {
        Ok(a) => a,
        Err(reason) => Answer::Down { reason },
    }
}

async fn probe_inner(ep: &Endpoint, tls: bool, timeout: Duration) -> Result<Answer, String> {
    let secs = timeout.as_secs_f64();
    let mut stream = tokio::time::timeout(timeout, connect(ep))
        .await
        .map_err(|_| format!("no TCP connection within {secs}s"))??;
    if tls {
        return Ok(Answer::TcpOnly);
    }
    stream
        .write_all(PROTOCOL_HEADER)
        .await
        .map_err(|e| format!("sending the AMQP header failed: {e}"))?;
    let frame = tokio::time::timeout(timeout, read_start_frame(&mut stream))
        .await
        .map_err(|_| format!("accepted TCP but sent no AMQP connection.start within {secs}s"))??;
    let server = parse_connection_start(&frame)?;
    Ok(Answer::Up { server })
}

/// Resolves the host and connects to its addresses in turn, keeping the two failures apart.
async fn connect(ep: &Endpoint) -> Result<tokio::net::TcpStream, String> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((ep.host.as_str(), ep.port))
        .await
        .map_err(|e| format!("cannot resolve '{}': {e}", ep.host))?
        .collect();
    let mut last = format!("'{}' resolves to no address", ep.host);
    for addr in addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("TCP connect to {addr} failed: {e}"),
        }
    }
    Err(last)
}

/// Reads one frame; returns its payload when it is a method frame on channel 0.
async fn read_start_frame(stream: &mut tokio::net::TcpStream) -> Result<Vec<u8>, String> {
    let mut header = [0u8; 7];
    read_exact(stream, &mut header).await?;
    if &header[..4] == b"AMQP" {
        // A server that does not speak our version answers with its own protocol header and closes.
        let mut rest = [0u8; 1];
        let _ = stream.read_exact(&mut rest).await;
        return Err(format!(
            "answered with protocol header AMQP {}-{}-{}-{}: not AMQP 0-9-1",
            header[4], header[5], header[6], rest[0]
        ));
    }
    let (kind, channel) = (header[0], u16::from_be_bytes([header[1], header[2]]));
    let size = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
    if kind != 1 || channel != 0 || size > MAX_START_FRAME {
        return Err(format!(
            "not an AMQP 0-9-1 broker: first bytes {}",
            hex(&header)
        ));
    }
    let mut payload = vec![0u8; size as usize + 1];
    read_exact(stream, &mut payload).await?;
    if payload.pop() != Some(0xCE) {
        return Err("not an AMQP 0-9-1 broker: frame does not end with 0xCE".into());
    }
    Ok(payload)
}

async fn read_exact(stream: &mut tokio::net::TcpStream, buf: &mut [u8]) -> Result<(), String> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err("closed the connection without an AMQP connection.start".into())
        }
        Err(e) => Err(format!("reading the AMQP answer failed: {e}")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a method payload is `connection.start` for 0-9 and pulls `product` and `version` out
/// of its server properties, which brokers fill in but the protocol does not require.
pub fn parse_connection_start(payload: &[u8]) -> Result<Option<String>, String> {
    if payload.len() < 6 || payload[..4] != [0, 10, 0, 10] {
        return Err(format!(
            "not an AMQP 0-9-1 broker: first method is not connection.start ({})",
            hex(&payload[..payload.len().min(4)])
        ));
    }
    if (payload[4], payload[5]) != (0, 9) {
        return Err(format!(
            "broker offers AMQP {}-{}, not 0-9",
            payload[4], payload[5]
        ));
    }
    let props = server_properties(&payload[6..]).unwrap_or_default();
    let product = props.get("product");
    let version = props.get("version");
    Ok(match (product, version) {
        (Some(p), Some(v)) => Some(format!("{p} {v}")),
        (Some(p), None) => Some(p.clone()),
        _ => None,
    })
}

/// The string entries of a field table (u32 length, then name/type/value entries); `None` when
/// it uses a field type this reader does not know, which only costs the server description.
fn server_properties(buf: &[u8]) -> Option<BTreeMap<String, String>> {
    let len = u32::from_be_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let table = buf.get(4..4 + len)?;
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < table.len() {
        let n = *table.get(i)? as usize;
        let name = String::from_utf8_lossy(table.get(i + 1..i + 1 + n)?).into_owned();
        i += 1 + n;
        let kind = *table.get(i)?;
        i += 1;
        let skip = |at: usize, width: usize| -> Option<usize> {
            (at + width <= table.len()).then_some(at + width)
        };
        i = match kind {
            b'S' | b'F' | b'A' | b'x' => {
                let l = u32::from_be_bytes(table.get(i..i + 4)?.try_into().ok()?) as usize;
                if kind == b'S' {
                    let v = String::from_utf8_lossy(table.get(i + 4..i + 4 + l)?).into_owned();
                    out.insert(name, v);
                }
                skip(i + 4, l)?
            }
            b's' => skip(i + 1, *table.get(i)? as usize)?,
            b't' | b'b' | b'B' => skip(i, 1)?,
            b'u' | b'U' => skip(i, 2)?,
            b'i' | b'I' | b'f' => skip(i, 4)?,
            b'l' | b'L' | b'd' | b'T' => skip(i, 8)?,
            b'D' => skip(i, 5)?,
            b'V' => i,
            _ => return None,
        };
    }
    Some(out)
}

/// One live `cells` row and what its brokers answered.
#[derive(Debug, Clone)]
pub struct RowProbe {
    /// The database holding the row.
    pub registered_in: String,
    /// The neighbour the row names.
    pub name: String,
    /// True when the row names the holder's parent.
    pub is_parent: bool,
    /// The brokers and their answers, or why none was probed.
    pub brokers: Result<Vec<(Endpoint, Answer)>, Unprobed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unprobed {
    /// The URL could not be parsed; the reason never quotes it.
    Invalid(String),
    /// A driver other than AMQP 0-9-1.
    OtherDriver(String),
}

/// The brokers of every readable cell's `cells` rows; cells whose transport URLs could not be
/// read carry the reason, for the check to report as skipped.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    pub rows: Vec<RowProbe>,
    pub unread: BTreeMap<String, String>,
}

fn row_parts(row: &Row) -> Option<(String, bool, String)> {
    Some((
        row.first()?.as_text()?,
        row.get(1)?.truthy(),
        row.get(2)?.as_text()?,
    ))
}

/// A row's brokers and whether they use TLS, or why they are not probed.
type Parsed = Result<(Vec<Endpoint>, bool), Unprobed>;

/// Reads the transport URLs from each cell's snapshot and probes every distinct broker once, all
/// at the same time, so the whole probe takes about one `timeout` at worst.
pub async fn probe_cells(cells: &[&CellView<'_>], timeout: Duration) -> Probes {
    let mut probes = Probes::default();
    // (holder, neighbour, is_parent, its brokers and whether they use TLS)
    let mut pending: Vec<(String, String, bool, Parsed)> = Vec::new();
    for cell in cells {
        let Some(data) = cell.data else { continue };
        let rows = match data.rows(&queries::CELLS_TRANSPORT) {
            Ok(r) => r,
            Err(e) => {
                probes.unread.insert(cell.name.to_string(), e);
                continue;
            }
        };
        for (name, is_parent, url) in rows.iter().filter_map(row_parts) {
            let parsed = match parse_transport_url(&url) {
                Ok(Transport::Amqp { endpoints, tls }) => Ok((endpoints, tls)),
                Ok(Transport::Other { scheme }) => Err(Unprobed::OtherDriver(scheme)),
                Err(e) => Err(Unprobed::Invalid(e)),
            };
            pending.push((cell.name.to_string(), name, is_parent, parsed));
        }
    }
    let mut targets: Vec<(Endpoint, bool)> = pending
        .iter()
        .filter_map(|(_, _, _, p)| p.as_ref().ok())
        .flat_map(|(eps, tls)| eps.iter().map(move |e| (e.clone(), *tls)))
        .collect();
    targets.sort();
    targets.dedup();
    let answers: BTreeMap<(Endpoint, bool), Answer> =
        futures::future::join_all(targets.into_iter().map(|(ep, tls)| async move {
            let a = probe(&ep, tls, timeout).await;
            ((ep, tls), a)
        }))
        .await
        .into_iter()
        .collect();
    for (registered_in, name, is_parent, parsed) in pending {
        let brokers = parsed.map(|(eps, tls)| {
            eps.into_iter()
                .map(|ep| {
                    let a = answers[&(ep.clone(), tls)].clone();
                    (ep, a)
                })
                .collect()
        });
        probes.rows.push(RowProbe {
            registered_in,
            name,
            is_parent,
            brokers,
        });
    }
    probes
}

/// Every probed broker, for the report's JSON and metrics.
pub fn statuses(probes: &Probes) -> Vec<BrokerStatus> {
    let mut out = Vec::new();
    for row in &probes.rows {
        let Ok(brokers) = &row.brokers else { continue };
        for (ep, answer) in brokers {
            let detail = match answer {
                Answer::Up { server } => server.clone(),
                Answer::TcpOnly => Some("TCP only: TLS port, AMQP exchange not attempted".into()),
                Answer::Down { reason } => Some(reason.clone()),
            };
            out.push(BrokerStatus {
                registered_in: row.registered_in.clone(),
                cell: row.name.clone(),
                broker: ep.to_string(),
                up: answer.is_up(),
                detail,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(h: &str, p: u16) -> Endpoint {
        Endpoint {
            host: h.into(),
            port: p,
        }
    }

    #[test]
    fn an_unencoded_slash_in_the_password_is_not_taken_for_the_host() {
        assert_eq!(
            parse_transport_url("rabbit://nova:1234/x?y@mq1:5673/child1").unwrap(),
            Transport::Amqp {
                endpoints: vec![ep("mq1", 5673)],
                tls: false
            }
        );
    }

    #[test]
    fn transport_urls_as_oslo_messaging_writes_them() {
        assert_eq!(
            parse_transport_url(
                "rabbit://nova:s3cr@t@mq1:5673,nova:pw@mq2,nova:x@[fd00::1]:5674/child1"
            )
            .unwrap(),
            Transport::Amqp {
                endpoints: vec![ep("mq1", 5673), ep("mq2", 5672), ep("fd00::1", 5674)],
                tls: false
            }
        );
        // oslo.messaging only warns about a list mixing brokers with and without credentials; here it
        // is what a ',' in a password looks like, so no piece of it is taken for a broker.
        assert_eq!(
            parse_transport_url("rabbit://nova:1,LEAKME1:2,x@h:1/").unwrap(),
            Transport::Amqp {
                endpoints: vec![ep("h", 1)],
                tls: false
            }
        );
        let err = parse_transport_url("rabbit://nova:1,LEAKME1:2,x@h:1,y@h2:1/").unwrap_err();
        assert!(
            err.contains("ambiguous") && !err.contains("LEAKME1"),
            "{err}"
        );
        assert_eq!(
            parse_transport_url("rabbit://u:p@mq:5671/?ssl=1").unwrap(),
            Transport::Amqp {
                endpoints: vec![ep("mq", 5671)],
                tls: true
            }
        );
        assert_eq!(
            parse_transport_url("kombu://mq").unwrap(),
            Transport::Amqp {
                endpoints: vec![ep("mq", 5672)],
                tls: false
            }
        );
        assert_eq!(
            parse_transport_url("kafka://u:p@k1:9092/").unwrap(),
            Transport::Other {
                scheme: "kafka".into()
            }
        );
        assert_eq!(ep("fd00::1", 5672).to_string(), "[fd00::1]:5672");
    }

    #[test]
    fn bad_transport_urls_never_echo_the_password() {
        for bad in [
            "rabbit://u:Hunter2@mq:notaport/",
            "rabbit://u:Hunter2@/",
            "rabbit://u:Hunter2@[fd00::1/",
            "Hunter2",
        ] {
            let err = parse_transport_url(bad).unwrap_err();
            assert!(!err.contains("Hunter2"), "{err}");
        }
    }

    #[test]
    fn connection_start_is_recognised_and_described() {
        // class 10, method 10, version 0-9, server-properties {product: S "RabbitMQ", version: S "3.12.1", capabilities: F {}}
        let mut table = Vec::new();
        for (k, v) in [("product", "RabbitMQ"), ("version", "3.12.1")] {
            table.push(k.len() as u8);
            table.extend_from_slice(k.as_bytes());
            table.push(b'S');
            table.extend_from_slice(&(v.len() as u32).to_be_bytes());
            table.extend_from_slice(v.as_bytes());
        }
        table.push(12);
        table.extend_from_slice(b"capabilities");
        table.push(b'F');
        table.extend_from_slice(&0u32.to_be_bytes());
        let mut payload = vec![0, 10, 0, 10, 0, 9];
        payload.extend_from_slice(&(table.len() as u32).to_be_bytes());
        payload.extend_from_slice(&table);
        assert_eq!(
            parse_connection_start(&payload).unwrap().as_deref(),
            Some("RabbitMQ 3.12.1")
        );
        assert!(parse_connection_start(&[0, 10, 0, 11, 0, 9]).is_err());
        assert!(
            parse_connection_start(&[0, 10, 0, 10, 1, 0])
                .unwrap_err()
                .contains("not 0-9")
        );
    }
}
