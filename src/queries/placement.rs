//! The placement part of the query catalogue: placement's own tables (in its database, or in nova_api from Newton
//! to Stein) and what the placement checks read from each cell, in `queries/placement_*.sql`.

use super::{Dataset, Query, StreamQuery};

pub const PROVIDERS: Dataset = Dataset {
    name: "placement_providers",
    variants: &[
        Query {
            sql: include_str!("../../queries/placement_providers.sql"),
            table: "resource_providers",
            columns: &[
                "id",
                "uuid",
                "name",
                "root_provider_id",
                "parent_provider_id",
            ],
        },
        Query {
            sql: include_str!("../../queries/placement_providers_flat.sql"),
            table: "resource_providers",
            columns: &["id", "uuid", "name"],
        },
    ],
};

pub const PROVIDER_AGGREGATES: Dataset = Dataset {
    name: "placement_provider_aggregates",
    variants: &[Query {
        sql: include_str!("../../queries/placement_provider_aggregates.sql"),
        table: "resource_provider_aggregates",
        columns: &["resource_provider_id", "aggregate_id"],
    }],
};

pub const PROVIDER_TRAITS: Dataset = Dataset {
    name: "placement_provider_traits",
    variants: &[Query {
        sql: include_str!("../../queries/placement_provider_traits.sql"),
        table: "resource_provider_traits",
        columns: &["resource_provider_id", "trait_id"],
    }],
};

pub const COMPUTE_INVENTORIES: Dataset = Dataset {
    name: "placement_compute_inventories",
    variants: &[Query {
        sql: include_str!("../../queries/placement_compute_inventories.sql"),
        table: "inventories",
        columns: &["resource_provider_id", "resource_class_id"],
    }],
};

/// What the placement checks read whole from the placement database (or nova_api).
pub const PLACEMENT_SETS: &[&Dataset] = &[
    &PROVIDERS,
    &PROVIDER_AGGREGATES,
    &PROVIDER_TRAITS,
    &COMPUTE_INVENTORIES,
];

/// One row per consumer: its uuid and the ids of the providers it allocates from, comma-separated.
pub const ALLOCATIONS: StreamQuery = StreamQuery {
    mysql: include_str!("../../queries/placement_allocations.mysql.sql"),
    sqlite: include_str!("../../queries/placement_allocations.sqlite.sql"),
    table: "allocations",
    columns: &["consumer_id", "resource_provider_id"],
};

pub const COMPUTE_NODES: Dataset = Dataset {
    name: "placement_compute_nodes",
    variants: &[Query {
        sql: include_str!("../../queries/placement_compute_nodes.sql"),
        table: "compute_nodes",
        columns: &[
            "uuid",
            "host",
            "hypervisor_hostname",
            "hypervisor_type",
            "deleted",
        ],
    }],
};

pub const MIGRATIONS: Dataset = Dataset {
    name: "placement_migrations",
    variants: &[
        Query {
            sql: include_str!("../../queries/placement_migrations.sql"),
            table: "migrations",
            columns: &[
                "uuid",
                "instance_uuid",
                "source_compute",
                "source_node",
                "dest_compute",
                "dest_node",
                "status",
                "deleted",
            ],
        },
        Query {
            sql: include_str!("../../queries/placement_migrations_no_uuid.sql"),
            table: "migrations",
            columns: &[
                "instance_uuid",
                "source_compute",
                "source_node",
                "dest_compute",
                "dest_node",
                "status",
                "deleted",
            ],
        },
    ],
};

/// What the placement checks read whole from each cell, in the snapshot they then stream instances from.
pub const CELL_SETS: &[&Dataset] = &[&COMPUTE_NODES, &MIGRATIONS];

/// Every instance of a cell in uuid order.
pub const INSTANCES: StreamQuery = StreamQuery {
    mysql: include_str!("../../queries/placement_instances.mysql.sql"),
    sqlite: include_str!("../../queries/placement_instances.sqlite.sql"),
    table: "instances",
    columns: &[
        "uuid",
        "display_name",
        "host",
        "node",
        "task_state",
        "deleted",
        "hidden",
    ],
};

/// The same before Train's `instances.hidden`.
pub const INSTANCES_NO_HIDDEN: StreamQuery = StreamQuery {
    mysql: include_str!("../../queries/placement_instances_no_hidden.mysql.sql"),
    sqlite: include_str!("../../queries/placement_instances_no_hidden.sqlite.sql"),
    table: "instances",
    columns: &[
        "uuid",
        "display_name",
        "host",
        "node",
        "task_state",
        "deleted",
    ],
};
