//! The catalogue of queries in `queries/`: what each reads and which tables and columns it needs.

pub mod placement;
pub mod v2;

/// One SQL text and the schema it needs to run.
#[derive(Debug)]
pub struct Query {
    pub sql: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

/// A named piece of data a check reads; variants are tried in order, for older or newer Nova schemas.
#[derive(Debug)]
pub struct Dataset {
    pub name: &'static str,
    pub variants: &'static [Query],
}

pub const CELLS: Dataset = Dataset {
    name: "cells",
    variants: &[Query {
        sql: include_str!("../queries/v1_cells.sql"),
        table: "cells",
        columns: &["name", "is_parent", "deleted"],
    }],
};

/// The same rows with their transport URLs, read only when the opt-in brokers check runs.
pub const CELLS_TRANSPORT: Dataset = Dataset {
    name: "cells_transport",
    variants: &[Query {
        sql: include_str!("../queries/v1_cells_transport.sql"),
        table: "cells",
        columns: &["name", "is_parent", "transport_url", "deleted"],
    }],
};

pub const AGGREGATES: Dataset = Dataset {
    name: "aggregates",
    variants: &[
        Query {
            sql: include_str!("../queries/v1_aggregates.sql"),
            table: "aggregates",
            columns: &["id", "name", "uuid", "deleted"],
        },
        Query {
            sql: include_str!("../queries/v1_aggregates_no_uuid.sql"),
            table: "aggregates",
            columns: &["id", "name", "deleted"],
        },
    ],
};

pub const AGGREGATE_HOSTS: Dataset = Dataset {
    name: "aggregate_hosts",
    variants: &[Query {
        sql: include_str!("../queries/v1_aggregate_hosts.sql"),
        table: "aggregate_hosts",
        columns: &["aggregate_id", "host", "deleted"],
    }],
};

pub const AGGREGATE_METADATA: Dataset = Dataset {
    name: "aggregate_metadata",
    variants: &[Query {
        sql: include_str!("../queries/v1_aggregate_metadata.sql"),
        table: "aggregate_metadata",
        columns: &["aggregate_id", "key", "value", "deleted"],
    }],
};

pub const COMPUTE_SERVICES: Dataset = Dataset {
    name: "compute_services",
    variants: &[Query {
        sql: include_str!("../queries/v1_compute_services.sql"),
        table: "services",
        columns: &["host", "binary", "disabled", "deleted"],
    }],
};

pub const FLAVORS: Dataset = Dataset {
    name: "flavors",
    variants: &[Query {
        sql: include_str!("../queries/v1_flavors.sql"),
        table: "instance_types",
        columns: &[
            "flavorid",
            "id",
            "deleted",
            "name",
            "memory_mb",
            "vcpus",
            "swap",
            "vcpu_weight",
            "rxtx_factor",
            "root_gb",
            "ephemeral_gb",
            "disabled",
            "is_public",
        ],
    }],
};

pub const FLAVOR_EXTRA_SPECS: Dataset = Dataset {
    name: "flavor_extra_specs",
    variants: &[Query {
        sql: include_str!("../queries/v1_flavor_extra_specs.sql"),
        table: "instance_type_extra_specs",
        columns: &["instance_type_id", "key", "value", "deleted"],
    }],
};

pub const FLAVOR_PROJECTS: Dataset = Dataset {
    name: "flavor_projects",
    variants: &[Query {
        sql: include_str!("../queries/v1_flavor_projects.sql"),
        table: "instance_type_projects",
        columns: &["instance_type_id", "project_id", "deleted"],
    }],
};

pub const INSTANCE_HOSTS: Dataset = Dataset {
    name: "instance_hosts",
    variants: &[Query {
        sql: include_str!("../queries/v1_instance_hosts.sql"),
        table: "instances",
        columns: &["host", "cell_name", "uuid", "deleted"],
    }],
};

/// One instance's rows by uuid, for `explain instance`; `columns` in the order the query selects them.
pub const EXPLAIN_INSTANCE: Query = Query {
    sql: include_str!("../queries/explain_instance.sql"),
    table: "instances",
    columns: &[
        "uuid",
        "display_name",
        "host",
        "node",
        "vm_state",
        "task_state",
        "power_state",
        "availability_zone",
        "project_id",
        "user_id",
        "instance_type_id",
        "cell_name",
        "deleted",
        "updated_at",
    ],
};

/// A query streamed in key order rather than read whole, with one text per dialect because the
/// ORDER BY must agree with the program's key comparison under each database's collation.
#[derive(Debug)]
pub struct StreamQuery {
    pub mysql: &'static str,
    pub sqlite: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl StreamQuery {
    pub fn sql(&self, dialect: crate::db::Dialect) -> &'static str {
        match dialect {
            crate::db::Dialect::MySql => self.mysql,
            crate::db::Dialect::Sqlite => self.sqlite,
        }
    }
}

/// Every instance (soft-deleted ones too) in uuid order, with the columns the instances check compares.
pub const INSTANCES_BY_UUID: StreamQuery = StreamQuery {
    mysql: include_str!("../queries/v1_instances.mysql.sql"),
    sqlite: include_str!("../queries/v1_instances.sqlite.sql"),
    table: "instances",
    columns: &[
        "uuid",
        "display_name",
        "deleted",
        "deleted_at",
        "updated_at",
        "created_at",
        "cell_name",
        "host",
        "node",
        "vm_state",
        "task_state",
        "power_state",
        "availability_zone",
        "project_id",
        "user_id",
        "instance_type_id",
    ],
};

/// The instances check's hash mode: every instance unordered, with the compared columns the
/// program hashes as they arrive; no ordering, so one text serves both databases.
pub const INSTANCES_HASHED: StreamQuery = StreamQuery {
    mysql: include_str!("../queries/v1_instances_hash.sql"),
    sqlite: include_str!("../queries/v1_instances_hash.sql"),
    table: "instances",
    columns: INSTANCES_BY_UUID.columns,
};

/// The full rows of [`INSTANCES_BY_UUIDS_BATCH`] instances by uuid (`?` each), for hash mode's re-reads.
pub const INSTANCES_BY_UUIDS: &str = include_str!("../queries/v1_instances_by_uuids.sql");
pub const INSTANCES_BY_UUIDS_BATCH: usize = 100;
