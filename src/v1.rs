//! Typed views of a cells v1 database (aggregates, registrations, compute hosts) built from snapshot rows.

use crate::collation::Collation;
use crate::db::Row;
use crate::queries;
use crate::snapshot::CellData;
use std::collections::{BTreeMap, BTreeSet};

/// The metadata key that makes an aggregate an availability zone.
pub const AZ_KEY: &str = "availability_zone";

/// Nova's `[DEFAULT] default_availability_zone` unless configured (`nova/conf/availability_zone.py`):
/// hosts in no AZ aggregate are in it, so an aggregate giving this AZ changes nothing.
pub const NOVA_DEFAULT_AZ: &str = "nova";

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub id: i64,
    pub name: String,
    pub uuid: Option<String>,
    /// Member hosts as stored (the parent may store `path!cell@host`).
    pub hosts: BTreeSet<String>,
    pub metadata: BTreeMap<String, String>,
    /// A live main-database row that a Newton-to-Queens release reads merged with its API database's
    /// (see `crate::v1_release`); it exists only for want of `online_data_migrations`.
    pub legacy: bool,
}

impl Aggregate {
    pub fn az(&self) -> Option<&str> {
        self.metadata.get(AZ_KEY).map(String::as_str)
    }

    /// The AZ this aggregate really gives its hosts: none when it names the default AZ.
    pub fn zone(&self, default_az: &str) -> Option<&str> {
        self.az().filter(|z| *z != default_az)
    }

    /// Whether the aggregate carries nothing but an availability zone (matched by AZ, not by name).
    pub fn only_az(&self) -> bool {
        self.metadata.len() == 1 && self.az().is_some()
    }

    /// Member hosts with any cell path stripped, as the child's services name them.
    pub fn member_hosts(&self) -> BTreeSet<String> {
        self.hosts.iter().map(|h| HostRef::parse(h).host).collect()
    }
}

#[derive(Debug, Default)]
pub struct Aggregates {
    /// Live aggregates by name; more than one per name is itself a finding (the main DB does not enforce it).
    pub live: BTreeMap<String, Vec<Aggregate>>,
    /// Names that exist only as soft-deleted rows.
    pub deleted: BTreeSet<String>,
    /// How this database compares `aggregates.name` (`utf8mb3_general_ci` on Nova's MySQL: case and
    /// trailing spaces ignored; exact on SQLite).
    pub name_collation: Collation,
    /// How it compares `aggregate_hosts.host`.
    pub host_collation: Collation,
}

impl Aggregates {
    /// The live aggregate named exactly `name`.
    pub fn get(&self, name: &str) -> Option<&Aggregate> {
        self.live.get(name).and_then(|v| v.first())
    }

    /// The live aggregate this database takes `name` to mean: exactly that name, else one its
    /// collation calls equal (`SSD-AGG` for `ssd-agg ` under `general_ci`).
    pub fn find(&self, name: &str) -> Option<&Aggregate> {
        self.get(name).or_else(|| {
            let want = self.name_collation.key(name);
            self.live
                .iter()
                .find(|(n, _)| self.name_collation.key(n) == want)
                .and_then(|(_, v)| v.first())
        })
    }

    /// Whether `name` (by this database's collation) exists here only as soft-deleted rows.
    pub fn is_deleted(&self, name: &str) -> bool {
        let want = self.name_collation.key(name);
        self.deleted
            .iter()
            .any(|n| self.name_collation.key(n) == want)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Aggregate> {
        self.live.values().filter_map(|v| v.first())
    }

    /// Every live aggregate, duplicates and merged main-database rows included: all of them count
    /// when Nova derives a host's AZ (`AggregateList.get_by_host`).
    pub fn all(&self) -> impl Iterator<Item = &Aggregate> {
        self.live.values().flatten()
    }
}

/// A host reference as found in `aggregate_hosts.host`: plain, or qualified with the cells v1 path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRef {
    pub host: String,
    /// The child named by a `path!to!cell@host` prefix (its last `!` segment).
    pub cell: Option<String>,
}

impl HostRef {
    pub fn parse(raw: &str) -> HostRef {
        match raw.rsplit_once('@') {
            Some((path, host)) => HostRef {
                host: host.to_string(),
                cell: path
                    .rsplit('!')
                    .next()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            },
            None => HostRef {
                host: raw.to_string(),
                cell: None,
            },
        }
    }
}

fn text(row: &Row, i: usize) -> Option<String> {
    row.get(i).and_then(|v| v.as_text())
}

pub fn aggregates(data: &CellData) -> Result<Aggregates, String> {
    let rows = data.rows(&queries::AGGREGATES)?;
    let hosts = data.rows(&queries::AGGREGATE_HOSTS)?;
    let meta = data.rows(&queries::AGGREGATE_METADATA)?;
    let mut by_id: BTreeMap<i64, Aggregate> = BTreeMap::new();
    let mut deleted_names = BTreeSet::new();
    for r in rows {
        let (Some(id), Some(name)) = (r[0].as_int(), text(r, 1)) else {
            continue;
        };
        if r[3].truthy() {
            deleted_names.insert(name);
            continue;
        }
        by_id.insert(
            id,
            Aggregate {
                id,
                name,
                uuid: text(r, 2).filter(|u| !u.is_empty()),
                hosts: BTreeSet::new(),
                metadata: BTreeMap::new(),
                legacy: text(r, 4).as_deref() == Some(crate::v1_release::MAIN_MARK),
            },
        );
    }
    for r in hosts {
        if let (Some(id), Some(h)) = (r[0].as_int(), text(r, 1))
            && let Some(a) = by_id.get_mut(&id)
        {
            a.hosts.insert(h);
        }
    }
    for r in meta {
        if let (Some(id), Some(k), Some(v)) = (r[0].as_int(), text(r, 1), text(r, 2))
            && let Some(a) = by_id.get_mut(&id)
        {
            a.metadata.insert(k, v);
        }
    }
    let mut out = Aggregates {
        name_collation: data.schema.collation("aggregates", "name"),
        host_collation: data.schema.collation("aggregate_hosts", "host"),
        ..Aggregates::default()
    };
    for a in by_id.into_values() {
        out.live.entry(a.name.clone()).or_default().push(a);
    }
    // An API-database row comes before a main-database one of the same name (merged releases): the
    // leftover is the releases check's finding, the API row is the aggregate.
    for v in out.live.values_mut() {
        v.sort_by_key(|a| a.legacy);
    }
    out.deleted = deleted_names
        .into_iter()
        .filter(|n| !out.live.contains_key(n))
        .collect();
    Ok(out)
}

/// Live `cells` rows: (name, is_parent).
pub fn registrations(data: &CellData) -> Result<Vec<(String, bool)>, String> {
    Ok(data
        .rows(&queries::CELLS)?
        .iter()
        .filter_map(|r| text(r, 0).map(|n| (n, r[1].truthy())))
        .collect())
}

/// The neighbours of a `[cells] cells_config` JSON file: cell name -> is_parent, as
/// `nova/cells/state.py` `CellStateManagerFile` reads it (an object keyed by cell name).
pub fn cells_config(path: &std::path::Path) -> Result<Vec<(String, bool)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read cells_config {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("cells_config {}: not JSON: {e}", path.display()))?;
    let obj = v.as_object().ok_or_else(|| {
        format!(
            "cells_config {}: expected an object keyed by cell name",
            path.display()
        )
    })?;
    let mut out: Vec<(String, bool)> = obj
        .iter()
        .map(|(name, info)| {
            let is_parent = match info.get("is_parent") {
                Some(serde_json::Value::Bool(b)) => *b,
                Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
                _ => false,
            };
            (name.clone(), is_parent)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Hosts with a live nova-compute service in this database.
pub fn compute_hosts(data: &CellData) -> Result<BTreeSet<String>, String> {
    Ok(data
        .rows(&queries::COMPUTE_SERVICES)?
        .iter()
        .filter_map(|r| text(r, 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_references_are_normalised_after_the_last_at() {
        assert_eq!(
            HostRef::parse("api!child1@cmp-01"),
            HostRef {
                host: "cmp-01".into(),
                cell: Some("child1".into())
            }
        );
        assert_eq!(
            HostRef::parse("top!region!child2@cmp-09"),
            HostRef {
                host: "cmp-09".into(),
                cell: Some("child2".into())
            }
        );
        assert_eq!(
            HostRef::parse("cmp-02"),
            HostRef {
                host: "cmp-02".into(),
                cell: None
            }
        );
        assert_eq!(
            HostRef::parse("@cmp-03"),
            HostRef {
                host: "cmp-03".into(),
                cell: None
            }
        );
    }
}
