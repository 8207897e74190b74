//! The cells v2 part of the query catalogue: what the API DB and each cell DB are asked, in `queries/v2_*.sql`.

use super::{Dataset, Query};

/// Read first, on its own, to discover the cells.
pub const CELL_MAPPINGS: Dataset = Dataset {
    name: "v2_cell_mappings",
    variants: &[
        Query {
            sql: include_str!("../../queries/v2_cell_mappings.sql"),
            table: "cell_mappings",
            columns: &["uuid", "name", "database_connection", "disabled"],
        },
        // Ocata to Queens: API migration 058 (Rocky) added `disabled`.
        Query {
            sql: include_str!("../../queries/v2_cell_mappings_no_disabled.sql"),
            table: "cell_mappings",
            columns: &["uuid", "name", "database_connection"],
        },
    ],
};

pub const HOST_MAPPINGS: Dataset = Dataset {
    name: "v2_host_mappings",
    variants: &[Query {
        sql: include_str!("../../queries/v2_host_mappings.sql"),
        table: "host_mappings",
        columns: &["host", "cell_id"],
    }],
};

pub const INSTANCE_MAPPINGS: Dataset = Dataset {
    name: "v2_instance_mappings",
    variants: &[
        Query {
            sql: include_str!("../../queries/v2_instance_mappings.sql"),
            table: "instance_mappings",
            columns: &[
                "instance_uuid",
                "cell_id",
                "project_id",
                "queued_for_delete",
                "user_id",
                "created_at",
            ],
        },
        // Rocky: API 061 added queued_for_delete, 062 (Stein) user_id.
        Query {
            sql: include_str!("../../queries/v2_instance_mappings_no_user.sql"),
            table: "instance_mappings",
            columns: &[
                "instance_uuid",
                "cell_id",
                "project_id",
                "queued_for_delete",
                "created_at",
            ],
        },
        // Ocata to Queens.
        Query {
            sql: include_str!("../../queries/v2_instance_mappings_no_qfd.sql"),
            table: "instance_mappings",
            columns: &["instance_uuid", "cell_id", "project_id", "created_at"],
        },
    ],
};

pub const BUILD_REQUESTS: Dataset = Dataset {
    name: "v2_build_requests",
    variants: &[Query {
        sql: include_str!("../../queries/v2_build_requests.sql"),
        table: "build_requests",
        columns: &["instance_uuid", "created_at"],
    }],
};

pub const API_AGGREGATES: Dataset = Dataset {
    name: "v2_api_aggregates",
    variants: &[Query {
        sql: include_str!("../../queries/v2_api_aggregates.sql"),
        table: "aggregates",
        columns: &["id", "name", "uuid"],
    }],
};

pub const API_AGGREGATE_HOSTS: Dataset = Dataset {
    name: "v2_api_aggregate_hosts",
    variants: &[Query {
        sql: include_str!("../../queries/v2_api_aggregate_hosts.sql"),
        table: "aggregate_hosts",
        columns: &["aggregate_id", "host"],
    }],
};

pub const API_AGGREGATE_METADATA: Dataset = Dataset {
    name: "v2_api_aggregate_metadata",
    variants: &[Query {
        sql: include_str!("../../queries/v2_api_aggregate_metadata.sql"),
        table: "aggregate_metadata",
        columns: &["aggregate_id", "key", "value"],
    }],
};

pub const COMPUTE_SERVICES: Dataset = Dataset {
    name: "v2_compute_services",
    variants: &[Query {
        sql: include_str!("../../queries/v2_compute_services.sql"),
        table: "services",
        columns: &[
            "host",
            "binary",
            "deleted",
            "disabled",
            "version",
            "last_seen_up",
            "updated_at",
            "created_at",
            "forced_down",
        ],
    }],
};

pub const COMPUTE_NODES: Dataset = Dataset {
    name: "v2_compute_nodes",
    variants: &[
        Query {
            sql: include_str!("../../queries/v2_compute_nodes.sql"),
            table: "compute_nodes",
            columns: &["host", "hypervisor_hostname", "mapped", "uuid", "deleted"],
        },
        // Ocata: main migration 360 (Pike) added `mapped`.
        Query {
            sql: include_str!("../../queries/v2_compute_nodes_no_mapped.sql"),
            table: "compute_nodes",
            columns: &["host", "hypervisor_hostname", "uuid", "deleted"],
        },
    ],
};

pub const INSTANCES: Dataset = Dataset {
    name: "v2_instances",
    variants: &[
        Query {
            sql: include_str!("../../queries/v2_instances.sql"),
            table: "instances",
            columns: &[
                "uuid",
                "display_name",
                "host",
                "availability_zone",
                "vm_state",
                "deleted",
                "hidden",
                "task_state",
                "deleted_at",
                "updated_at",
                "created_at",
            ],
        },
        Query {
            sql: include_str!("../../queries/v2_instances_no_hidden.sql"),
            table: "instances",
            columns: &[
                "uuid",
                "display_name",
                "host",
                "availability_zone",
                "vm_state",
                "deleted",
                "task_state",
                "deleted_at",
                "updated_at",
                "created_at",
            ],
        },
    ],
};

/// Uuids of the instances archived to `shadow_instances`.
pub const SHADOW_INSTANCES: Dataset = Dataset {
    name: "v2_shadow_instances",
    variants: &[Query {
        sql: include_str!("../../queries/v2_shadow_instances.sql"),
        table: "shadow_instances",
        columns: &["uuid"],
    }],
};

/// Each request spec's pinned AZ (an excerpt of the serialised spec, see the query).
pub const REQUEST_SPECS: Dataset = Dataset {
    name: "v2_request_specs",
    variants: &[Query {
        sql: include_str!("../../queries/v2_request_specs.sql"),
        table: "request_specs",
        columns: &["instance_uuid", "spec", "created_at"],
    }],
};

pub const LEGACY_AGGREGATES: Dataset = Dataset {
    name: "v2_legacy_aggregates",
    variants: &[Query {
        sql: include_str!("../../queries/v2_legacy_aggregates.sql"),
        table: "aggregates",
        columns: &["id", "name", "deleted"],
    }],
};

pub const LEGACY_FLAVORS: Dataset = Dataset {
    name: "v2_legacy_flavors",
    variants: &[Query {
        sql: include_str!("../../queries/v2_legacy_flavors.sql"),
        table: "instance_types",
        columns: &["flavorid", "name", "deleted"],
    }],
};

pub const LEGACY_KEY_PAIRS: Dataset = Dataset {
    name: "v2_legacy_key_pairs",
    variants: &[Query {
        sql: include_str!("../../queries/v2_legacy_key_pairs.sql"),
        table: "key_pairs",
        columns: &["user_id", "name", "deleted"],
    }],
};
