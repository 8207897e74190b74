//! The catalogue of queries in `queries/`: what each reads and which tables and columns it needs.

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
