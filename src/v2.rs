//! Typed views of a cells v2 deployment (API DB mappings and aggregates; cell services, nodes, instances) built from snapshot rows.

use crate::db::Row;
use crate::dburl::redact;
use crate::queries::v2 as q;
use crate::snapshot::CellData;
use std::collections::{BTreeMap, BTreeSet};

/// `CellMapping.CELL0_UUID` (nova/objects/cell_mapping.py): how cell0 is recognised, whatever its name.
pub const CELL0_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// The project (and user) of the bookmark row `nova-manage cell_v2 map_instances` leaves between batches.
pub const MIGRATION_MARKER: &str = "INSTANCE_MIGRATION_MARKER";

/// The metadata key that makes an aggregate an availability zone.
pub const AZ_KEY: &str = "availability_zone";

fn text(row: &Row, i: usize) -> Option<String> {
    row.get(i).and_then(|v| v.as_text())
}

fn flag(row: &Row, i: usize) -> bool {
    row.get(i).is_some_and(|v| v.truthy())
}

/// One `cell_mappings` row as stored (the connection not yet rendered).
#[derive(Clone, PartialEq)]
pub struct CellMapping {
    pub uuid: String,
    pub name: Option<String>,
    pub database_connection: Option<String>,
    pub disabled: bool,
}

// Written out because `database_connection` carries the cell database's password.
impl std::fmt::Debug for CellMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CellMapping")
            .field("uuid", &self.uuid)
            .field("name", &self.name)
            .field(
                "database_connection",
                &self.database_connection.as_deref().map(redact),
            )
            .field("disabled", &self.disabled)
            .finish()
    }
}

impl CellMapping {
    pub fn is_cell0(&self) -> bool {
        self.uuid == CELL0_UUID
    }
}

pub fn cell_mappings(data: &CellData) -> Result<Vec<CellMapping>, String> {
    Ok(data
        .rows(&q::CELL_MAPPINGS)?
        .iter()
        .filter_map(|r| {
            Some(CellMapping {
                uuid: text(r, 0)?,
                name: text(r, 1).filter(|n| !n.is_empty()),
                database_connection: text(r, 2),
                disabled: flag(r, 3),
            })
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceMapping {
    pub cell_uuid: Option<String>,
    /// `None`: NULL (a row older than Stein's online migration) or no such column (before Rocky's API 061).
    pub queued_for_delete: Option<bool>,
    /// `None`: NULL (not yet filled by Train's online migration) or no such column (before Stein's API 062).
    pub user_id: Option<String>,
    /// Seconds since the epoch (UTC).
    pub created_at: Option<i64>,
}

/// A DATETIME as the database reader gives it ('YYYY-MM-DD HH:MM:SS', UTC as Nova writes it) in epoch seconds.
pub fn epoch(text: Option<String>) -> Option<i64> {
    let t = text?;
    sqlx::types::chrono::NaiveDateTime::parse_from_str(t.get(..19)?, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.and_utc().timestamp())
}

/// What the API DB says about where things are.
#[derive(Debug, Default)]
pub struct ApiMappings {
    /// host → cell uuid.
    pub hosts: BTreeMap<String, String>,
    /// instance uuid → mapping, without map_instances' marker row.
    pub instances: BTreeMap<String, InstanceMapping>,
    /// Build request instance uuid → when it was created (epoch seconds).
    pub build_requests: BTreeMap<String, Option<i64>>,
    /// Which optional columns this API DB has: `queued_for_delete` (API 061), `user_id` (API 062).
    pub has_queued_for_delete: bool,
    pub has_user_id: bool,
}

pub fn host_mappings(data: &CellData) -> Result<BTreeMap<String, String>, String> {
    Ok(data
        .rows(&q::HOST_MAPPINGS)?
        .iter()
        .filter_map(|r| Some((text(r, 0)?, text(r, 1)?)))
        .collect())
}

pub fn api_mappings(data: &CellData) -> Result<ApiMappings, String> {
    let mut m = ApiMappings {
        hosts: host_mappings(data)?,
        ..ApiMappings::default()
    };
    for r in data.rows(&q::INSTANCE_MAPPINGS)? {
        let Some(uuid) = text(r, 0) else { continue };
        if text(r, 2).as_deref() == Some(MIGRATION_MARKER) {
            continue;
        }
        m.instances.insert(
            uuid,
            InstanceMapping {
                cell_uuid: text(r, 1),
                queued_for_delete: r.get(3).and_then(|v| v.as_int()).map(|i| i != 0),
                user_id: text(r, 4),
                created_at: epoch(text(r, 5)),
            },
        );
    }
    m.has_queued_for_delete = data
        .schema
        .missing("instance_mappings", &["queued_for_delete"])
        .is_none();
    m.has_user_id = data
        .schema
        .missing("instance_mappings", &["user_id"])
        .is_none();
    m.build_requests = data
        .rows(&q::BUILD_REQUESTS)?
        .iter()
        .filter_map(|r| Some((text(r, 0)?, epoch(text(r, 1)))))
        .collect();
    Ok(m)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiAggregate {
    pub name: String,
    pub uuid: Option<String>,
    pub hosts: BTreeSet<String>,
    pub metadata: BTreeMap<String, String>,
}

impl ApiAggregate {
    pub fn az(&self) -> Option<&str> {
        self.metadata.get(AZ_KEY).map(String::as_str)
    }
}

pub fn api_aggregates(data: &CellData) -> Result<Vec<ApiAggregate>, String> {
    let mut by_id: BTreeMap<i64, ApiAggregate> = BTreeMap::new();
    for r in data.rows(&q::API_AGGREGATES)? {
        if let (Some(id), Some(name)) = (r[0].as_int(), text(r, 1)) {
            by_id.insert(
                id,
                ApiAggregate {
                    name,
                    uuid: text(r, 2),
                    hosts: BTreeSet::new(),
                    metadata: BTreeMap::new(),
                },
            );
        }
    }
    for r in data.rows(&q::API_AGGREGATE_HOSTS)? {
        if let (Some(id), Some(h)) = (r[0].as_int(), text(r, 1))
            && let Some(a) = by_id.get_mut(&id)
        {
            a.hosts.insert(h);
        }
    }
    for r in data.rows(&q::API_AGGREGATE_METADATA)? {
        if let (Some(id), Some(k), Some(v)) = (r[0].as_int(), text(r, 1), text(r, 2))
            && let Some(a) = by_id.get_mut(&id)
        {
            a.metadata.insert(k, v);
        }
    }
    let mut out: Vec<ApiAggregate> = by_id.into_values().collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The AZs each host is in, by aggregate: host → [(aggregate, az)].
pub fn host_zones(aggs: &[ApiAggregate]) -> BTreeMap<&str, Vec<(&str, &str)>> {
    let mut out: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for a in aggs {
        if let Some(az) = a.az() {
            for h in &a.hosts {
                out.entry(h.as_str()).or_default().push((&a.name, az));
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComputeNode {
    pub host: String,
    pub hypervisor_hostname: Option<String>,
    /// What discover_hosts trusts: 1 once it created the host mapping; `None` before Pike (main 360) had the flag.
    pub mapped: Option<bool>,
    /// The node's uuid, which is also its placement resource provider's uuid.
    pub uuid: Option<String>,
}

/// One live nova-compute service row.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeService {
    pub host: String,
    pub disabled: bool,
    /// `services.version`: the service's object/RPC version (nova/objects/service.py SERVICE_VERSION).
    pub version: Option<i64>,
    /// Last heartbeat (or update, or creation), epoch seconds.
    pub seen_at: Option<i64>,
    pub forced_down: bool,
}

/// A cell's compute hosts.
#[derive(Debug, Default)]
pub struct CellHosts {
    /// Hosts with a live nova-compute service.
    pub services: BTreeSet<String>,
    /// The live nova-compute service rows themselves.
    pub service_rows: Vec<ComputeService>,
    /// Hosts whose only nova-compute services are soft-deleted.
    pub deleted_services: BTreeSet<String>,
    pub nodes: Vec<ComputeNode>,
}

impl CellHosts {
    pub fn node_hosts(&self) -> BTreeSet<&str> {
        self.nodes.iter().map(|n| n.host.as_str()).collect()
    }

    /// A host counts as a compute host of the cell if it has a live service or a live node.
    pub fn has_host(&self, host: &str) -> bool {
        self.services.contains(host) || self.nodes.iter().any(|n| n.host == host)
    }
}

pub fn cell_hosts(data: &CellData) -> Result<CellHosts, String> {
    let mut h = CellHosts::default();
    let mut deleted = BTreeSet::new();
    for r in data.rows(&q::COMPUTE_SERVICES)? {
        let Some(host) = text(r, 0) else { continue };
        if flag(r, 1) {
            deleted.insert(host);
        } else {
            h.service_rows.push(ComputeService {
                host: host.clone(),
                disabled: flag(r, 2),
                version: r.get(3).and_then(|v| v.as_int()),
                seen_at: epoch(text(r, 4)),
                forced_down: flag(r, 5),
            });
            h.services.insert(host);
        }
    }
    h.deleted_services = deleted
        .into_iter()
        .filter(|d| !h.services.contains(d))
        .collect();
    h.nodes = data
        .rows(&q::COMPUTE_NODES)?
        .iter()
        .filter_map(|r| {
            Some(ComputeNode {
                host: text(r, 0)?,
                hypervisor_hostname: text(r, 1),
                mapped: r.get(2).and_then(|v| v.as_int()).map(|i| i != 0),
                uuid: text(r, 3),
            })
        })
        .collect();
    Ok(h)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub uuid: String,
    pub display_name: Option<String>,
    pub host: Option<String>,
    pub availability_zone: Option<String>,
    pub vm_state: Option<String>,
    pub deleted: bool,
    /// The hidden copy of a cross-cell resize (Train+): not the instance users see.
    pub hidden: bool,
    pub task_state: Option<String>,
    /// When the row last changed (deleted_at, updated_at or created_at), epoch seconds.
    pub changed_at: Option<i64>,
}

impl Instance {
    /// How a finding names the instance: its uuid and, when it has one, its display name.
    pub fn label(&self) -> String {
        match &self.display_name {
            Some(n) if !n.is_empty() => format!("{} ('{n}')", self.uuid),
            _ => self.uuid.clone(),
        }
    }

    /// Live and visible: the copy the API serves.
    pub fn visible(&self) -> bool {
        !self.deleted && !self.hidden
    }
}

pub fn instances(data: &CellData) -> Result<Vec<Instance>, String> {
    Ok(data
        .rows(&q::INSTANCES)?
        .iter()
        .filter_map(|r| {
            Some(Instance {
                uuid: text(r, 0)?,
                display_name: text(r, 1),
                host: text(r, 2).filter(|h| !h.is_empty()),
                availability_zone: text(r, 3),
                vm_state: text(r, 4),
                deleted: flag(r, 5),
                hidden: flag(r, 6),
                task_state: text(r, 7),
                changed_at: epoch(text(r, 8)),
            })
        })
        .collect())
}

/// Live rows of a cell DB's legacy tables, which cells v2 keeps in the API DB.
#[derive(Debug, Default)]
pub struct Legacy {
    /// (name, availability zone, member count)
    pub aggregates: Vec<(String, Option<String>, i64)>,
    /// (flavorid, name)
    pub flavors: Vec<(String, String)>,
    /// (user_id, name)
    pub key_pairs: Vec<(String, String)>,
}

/// Reads whichever legacy tables this cell still has; a table Nova has dropped is simply empty.
pub fn legacy(data: &CellData) -> Result<Legacy, String> {
    let present = |ds: &crate::queries::Dataset| {
        let q = &ds.variants[0];
        data.schema.has_table(q.table)
    };
    let mut l = Legacy::default();
    if present(&q::LEGACY_AGGREGATES) {
        l.aggregates = data
            .rows(&q::LEGACY_AGGREGATES)?
            .iter()
            .filter_map(|r| Some((text(r, 0)?, text(r, 1), r[2].as_int().unwrap_or(0))))
            .collect();
    }
    if present(&q::LEGACY_FLAVORS) {
        l.flavors = data
            .rows(&q::LEGACY_FLAVORS)?
            .iter()
            .filter_map(|r| Some((text(r, 0)?, text(r, 1).unwrap_or_default())))
            .collect();
    }
    if present(&q::LEGACY_KEY_PAIRS) {
        l.key_pairs = data
            .rows(&q::LEGACY_KEY_PAIRS)?
            .iter()
            .filter_map(|r| Some((text(r, 0)?, text(r, 1)?)))
            .collect();
    }
    Ok(l)
}

/// Uuids archived to the cell's `shadow_instances`; empty when the table is absent.
pub fn shadow_instances(data: &CellData) -> Result<BTreeSet<String>, String> {
    if !data.schema.has_table(q::SHADOW_INSTANCES.variants[0].table) {
        return Ok(BTreeSet::new());
    }
    Ok(data
        .rows(&q::SHADOW_INSTANCES)?
        .iter()
        .filter_map(|r| text(r, 0))
        .collect())
}

/// What a request spec pins: `None` for "any AZ".
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    pub availability_zone: Option<String>,
    pub created_at: Option<i64>,
}

/// The JSON value a request spec excerpt starts with, as an AZ name: a string, or `None` for null or anything else
/// (an excerpt cut short, or hostile bytes, reads as "not pinned" rather than failing).
pub fn spec_az(excerpt: &str) -> Option<String> {
    let mut values = serde_json::Deserializer::from_str(excerpt).into_iter::<serde_json::Value>();
    match values.next() {
        Some(Ok(serde_json::Value::String(s))) => Some(s),
        _ => None,
    }
}

/// Instance uuid → its request spec.
pub fn request_specs(data: &CellData) -> Result<BTreeMap<String, RequestSpec>, String> {
    Ok(data
        .rows(&q::REQUEST_SPECS)?
        .iter()
        .filter_map(|r| {
            Some((
                text(r, 0)?,
                RequestSpec {
                    availability_zone: text(r, 1).as_deref().and_then(spec_az),
                    created_at: epoch(text(r, 2)),
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_az_reads_the_value_the_excerpt_starts_with() {
        assert_eq!(spec_az(r#""az-a", "flavor": {}}"#), Some("az-a".into()));
        assert_eq!(spec_az(r#"null, "x": 1}"#), None);
        assert_eq!(spec_az(r#""a\"b\u00e9", "#), Some("a\"b\u{e9}".into()));
        // Cut short by the excerpt's length, or not JSON at all: not pinned, no panic.
        assert_eq!(spec_az(r#""az-"#), None);
        assert_eq!(spec_az("\u{0}\n'"), None);
        assert_eq!(spec_az(""), None);
    }

    #[test]
    fn epoch_reads_database_datetimes() {
        assert_eq!(epoch(Some("1970-01-01 00:01:00".into())), Some(60));
        assert_eq!(
            epoch(Some("2026-12-02 10:00:00.123456".into())),
            Some(1_796_205_600)
        );
        assert_eq!(epoch(Some("garbage".into())), None);
        assert_eq!(epoch(None), None);
    }
}
