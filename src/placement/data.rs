//! Typed views for the placement checks: placement's providers (with tree, aggregates and owner hints) and each
//! cell's compute nodes and in-progress migrations, built from snapshot rows.

use crate::db::Row;
use crate::queries::placement as q;
use crate::snapshot::CellData;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn text(row: &Row, i: usize) -> Option<String> {
    row.get(i).and_then(|v| v.as_text())
}

fn int(row: &Row, i: usize) -> Option<i64> {
    row.get(i).and_then(|v| v.as_int())
}

/// uuids are compared case-insensitively, as MySQL's general_ci collations (and the merge) compare them.
pub fn ukey(uuid: &str) -> String {
    uuid.to_ascii_lowercase()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub id: i64,
    pub uuid: String,
    pub name: Option<String>,
    pub root: i64,
    pub parent: Option<i64>,
    /// Placement aggregate uuids, lowercased.
    pub aggregates: BTreeSet<String>,
    /// MISC_SHARES_VIA_AGGREGATE: shares its inventory with the providers of its aggregates.
    pub sharing: bool,
    /// COMPUTE_NODE or OWNER_NOVA, which nova-compute puts on its compute node providers
    /// (nova/compute/resource_tracker.py `_get_traits`, Wallaby and 2026.1 on).
    pub nova_trait: bool,
    /// VCPU, MEMORY_MB or DISK_GB inventory: what a compute node provider older than those traits has.
    pub compute_inventory: bool,
}

impl Provider {
    /// A provider nova-compute would have made for a compute node: a root of its own tree, not sharing,
    /// marked by Nova's traits or holding compute inventory. Sharing providers, nested children
    /// (vGPU, bandwidth) and other services' roots (Neutron segments: IPV4_ADDRESS only) are not.
    pub fn looks_like_compute_node(&self) -> bool {
        self.parent.is_none()
            && self.root == self.id
            && !self.sharing
            && (self.nova_trait || self.compute_inventory)
    }

    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{} ('{n}')", self.uuid),
            None => self.uuid.clone(),
        }
    }
}

/// Placement's providers as one snapshot held them.
#[derive(Debug, Default)]
pub struct Placement {
    pub providers: Vec<Provider>,
    by_id: HashMap<i64, usize>,
    by_uuid: HashMap<String, usize>,
    /// Why provider aggregates could not be read (placement before Ocata), when they could not.
    pub aggregates_unreadable: Option<String>,
}

impl Placement {
    pub fn by_id(&self, id: i64) -> Option<&Provider> {
        self.by_id.get(&id).map(|i| &self.providers[*i])
    }

    pub fn by_uuid(&self, uuid: &str) -> Option<&Provider> {
        self.by_uuid.get(&ukey(uuid)).map(|i| &self.providers[*i])
    }

    pub fn by_name(&self, name: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
    }
}

pub fn placement(data: &CellData) -> Result<Placement, String> {
    let mut p = Placement::default();
    for r in data.rows(&q::PROVIDERS)? {
        let (Some(id), Some(uuid)) = (int(r, 0), text(r, 1)) else {
            continue;
        };
        p.by_id.insert(id, p.providers.len());
        p.by_uuid.insert(ukey(&uuid), p.providers.len());
        p.providers.push(Provider {
            id,
            uuid,
            name: text(r, 2),
            root: int(r, 3).unwrap_or(id),
            parent: int(r, 4),
            aggregates: BTreeSet::new(),
            sharing: false,
            nova_trait: false,
            compute_inventory: false,
        });
    }
    match data.rows(&q::PROVIDER_AGGREGATES) {
        Ok(rows) => {
            for r in rows {
                if let (Some(id), Some(agg)) = (int(r, 0), text(r, 1))
                    && let Some(i) = p.by_id.get(&id)
                {
                    p.providers[*i].aggregates.insert(ukey(&agg));
                }
            }
        }
        Err(e) => p.aggregates_unreadable = Some(e),
    }
    // Traits arrived in Pike's placement: without them, inventory alone tells a compute node provider.
    if let Ok(rows) = data.rows(&q::PROVIDER_TRAITS) {
        for r in rows {
            if let (Some(id), Some(name)) = (int(r, 0), text(r, 1))
                && let Some(i) = p.by_id.get(&id)
            {
                match name.as_str() {
                    "MISC_SHARES_VIA_AGGREGATE" => p.providers[*i].sharing = true,
                    _ => p.providers[*i].nova_trait = true,
                }
            }
        }
    }
    for r in data.rows(&q::COMPUTE_INVENTORIES)? {
        if let Some(id) = int(r, 0)
            && let Some(i) = p.by_id.get(&id)
        {
            p.providers[*i].compute_inventory = true;
        }
    }
    Ok(p)
}

/// One `compute_nodes` row of a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub cell: String,
    pub uuid: String,
    pub host: Option<String>,
    pub hypervisor_hostname: Option<String>,
    pub hypervisor_type: Option<String>,
    pub deleted: bool,
}

impl Node {
    pub fn label(&self) -> String {
        format!(
            "{} (host '{}', node '{}', {})",
            self.uuid,
            self.host.as_deref().unwrap_or(""),
            self.hypervisor_hostname.as_deref().unwrap_or(""),
            self.cell
        )
    }
}

/// A migration in progress in some cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub cell: String,
    pub uuid: Option<String>,
    pub instance_uuid: Option<String>,
    pub source: (Option<String>, Option<String>),
    pub dest: (Option<String>, Option<String>),
    pub status: Option<String>,
}

/// What the placement checks know of the cells.
#[derive(Debug, Default)]
pub struct Nova {
    pub nodes: Vec<Node>,
    pub migrations: Vec<Migration>,
    /// Cells whose compute nodes are in hand.
    pub read: Vec<String>,
    /// Cells (cell0 aside) whose compute nodes are not: nothing may be concluded from absence there.
    pub unread: Vec<String>,
    /// (cell, host, hypervisor_hostname) → live node, for the per-instance lookups of the allocations check.
    by_place: HashMap<(String, String, String), usize>,
}

impl Nova {
    /// Live compute nodes by lowercased uuid.
    pub fn live_by_uuid(&self) -> HashMap<String, &Node> {
        self.nodes
            .iter()
            .filter(|n| !n.deleted)
            .map(|n| (ukey(&n.uuid), n))
            .collect()
    }

    /// Live compute nodes of one host in one cell.
    pub fn host_nodes(&self, cell: &str, host: &str) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| !n.deleted && n.cell == cell && n.host.as_deref() == Some(host))
            .collect()
    }

    /// The live compute node an instance's (host, node) names in its cell.
    pub fn node_of(&self, cell: &str, host: &str, node: &str) -> Option<&Node> {
        self.by_place
            .get(&(cell.to_string(), host.to_string(), node.to_string()))
            .map(|i| &self.nodes[*i])
    }

    /// Cells where `host` has live compute nodes.
    pub fn cells_of_host(&self, host: &str) -> BTreeSet<&str> {
        self.nodes
            .iter()
            .filter(|n| !n.deleted && n.host.as_deref() == Some(host))
            .map(|n| n.cell.as_str())
            .collect()
    }

    /// In-progress migrations by lowercased uuid (their consumers) and by instance.
    pub fn migrations_index(
        &self,
    ) -> (
        HashMap<String, &Migration>,
        BTreeMap<String, Vec<&Migration>>,
    ) {
        let mut by_uuid = HashMap::new();
        let mut by_instance: BTreeMap<String, Vec<&Migration>> = BTreeMap::new();
        for m in &self.migrations {
            if let Some(u) = &m.uuid {
                by_uuid.insert(ukey(u), m);
            }
            if let Some(i) = &m.instance_uuid {
                by_instance.entry(ukey(i)).or_default().push(m);
            }
        }
        (by_uuid, by_instance)
    }
}

/// Adds one cell's compute nodes and in-progress migrations.
pub fn add_cell(nova: &mut Nova, cell: &str, data: &CellData) -> Result<(), String> {
    let nodes = data.rows(&q::COMPUTE_NODES)?;
    let migrations = data.rows(&q::MIGRATIONS)?;
    for r in nodes {
        let Some(uuid) = text(r, 0) else { continue };
        let deleted = r.get(4).is_some_and(|v| v.truthy());
        if let (false, Some(h), Some(hv)) = (deleted, text(r, 1), text(r, 2)) {
            nova.by_place
                .entry((cell.to_string(), h, hv))
                .or_insert(nova.nodes.len());
        }
        nova.nodes.push(Node {
            cell: cell.to_string(),
            uuid,
            host: text(r, 1),
            hypervisor_hostname: text(r, 2),
            hypervisor_type: text(r, 3),
            deleted,
        });
    }
    for r in migrations {
        nova.migrations.push(Migration {
            cell: cell.to_string(),
            uuid: text(r, 0),
            instance_uuid: text(r, 1),
            source: (text(r, 2), text(r, 3)),
            dest: (text(r, 4), text(r, 5)),
            status: text(r, 6),
        });
    }
    nova.read.push(cell.to_string());
    Ok(())
}
