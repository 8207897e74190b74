//! Every check name and finding kind as a closed enum, each spelled once here, so code that reacts to a finding
//! (sync's planner, explain's verdicts, the table's drift layout) matches variants the compiler checks, not strings.

use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// Declares a fieldless enum whose variants carry the exact names findings are reported and serialized under.
/// Ordering follows the names (not declaration order) so sorting findings and metric labels stays alphabetical,
/// exactly as when they were strings.
macro_rules! named_ids {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name shown in every output (JSON, Prometheus labels, tables, sync journals).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value reported under `name`, if there is one.
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad` keeps width and alignment flags working as they did on the string.
                f.pad(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.as_str().cmp(other.as_str())
            }
        }
    };
}

named_ids! {
    /// A check: what a finding and a per-cell outcome are reported under, and what `--check` names.
    Check {
        Connectivity = "connectivity",
        CellRegistry = "cell_registry",
        Aggregates = "aggregates",
        AggregateMetadata = "aggregate_metadata",
        AggregateHosts = "aggregate_hosts",
        AvailabilityZones = "availability_zones",
        Hosts = "hosts",
        Flavors = "flavors",
        Instances = "instances",
        Brokers = "brokers",
        CellMappings = "cell_mappings",
        HostMappings = "host_mappings",
        ApiAggregates = "api_aggregates",
        InstanceMappings = "instance_mappings",
        InstanceHosts = "instance_hosts",
        RequestSpecs = "request_specs",
        LegacyTables = "legacy_tables",
        PlacementAggregates = "placement_aggregates",
        ResourceProviders = "resource_providers",
        Allocations = "allocations",
        Releases = "releases",
        OldComputes = "old_computes",
    }
}

impl Kind {
    /// A value present on both sides that differs (kinds named `*_differs`): renderers show it as a parent/child diff.
    pub fn is_value_drift(self) -> bool {
        self.as_str().ends_with("_differs")
    }
}

named_ids! {
    /// What kind of problem a finding is, within its check.
    Kind {
        ConsumersUndecided = "consumers_undecided",
        MissingInChild = "missing_in_child",
        UuidDiffers = "uuid_differs",
        ExtraInChild = "extra_in_child",
        ValueDiffers = "value_differs",
        HostInNoChild = "host_in_no_child",
        CellPathMismatch = "cell_path_mismatch",
        TransportUrlInvalid = "transport_url_invalid",
        BrokerNotProbed = "broker_not_probed",
        ParentBrokerUnreachable = "parent_broker_unreachable",
        BrokerUnreachable = "broker_unreachable",
        IdDiffers = "id_differs",
        IdCollision = "id_collision",
        SpecMissingInChild = "spec_missing_in_child",
        SpecExtraInChild = "spec_extra_in_child",
        SpecValueDiffers = "spec_value_differs",
        AccessMissingInChild = "access_missing_in_child",
        AccessExtraInChild = "access_extra_in_child",
        HostInMultipleCells = "host_in_multiple_cells",
        ComputeInParent = "compute_in_parent",
        InstanceHostInNoChild = "instance_host_in_no_child",
        InstanceHostInOtherCell = "instance_host_in_other_cell",
        InstanceHostNotInCell = "instance_host_not_in_cell",
        InstancesUnreadable = "instances_unreadable",
        InstanceLagging = "instance_lagging",
        RegistryEmpty = "registry_empty",
        NotRegistered = "not_registered",
        RegisteredNotAudited = "registered_not_audited",
        ParentNotRegistered = "parent_not_registered",
        MemberIsHypervisorHostname = "member_is_hypervisor_hostname",
        MemberCaseDiffers = "member_case_differs",
        MemberServiceDeleted = "member_service_deleted",
        MemberUnknown = "member_unknown",
        HostInMultipleAzs = "host_in_multiple_azs",
        NoCell0 = "no_cell0",
        NoCells = "no_cells",
        CellsShareDatabase = "cells_share_database",
        CellDisabled = "cell_disabled",
        ServiceUnmapped = "service_unmapped",
        MappedToWrongCell = "mapped_to_wrong_cell",
        MappingHostGone = "mapping_host_gone",
        HostLiveInSeveralCells = "host_live_in_several_cells",
        DuplicateComputeNode = "duplicate_compute_node",
        InstanceUnmapped = "instance_unmapped",
        LiveInSeveralCells = "live_in_several_cells",
        BuildStuck = "build_stuck",
        NullCellInstanceExists = "null_cell_instance_exists",
        NullCellNoInstance = "null_cell_no_instance",
        MappedInstanceArchived = "mapped_instance_archived",
        MappedInstanceMissing = "mapped_instance_missing",
        BuildRequestLeftover = "build_request_leftover",
        MappingColumnNull = "mapping_column_null",
        LegacyAggregate = "legacy_aggregate",
        LegacyFlavor = "legacy_flavor",
        LegacyKeyPair = "legacy_key_pair",
        HostNotInCell = "host_not_in_cell",
        AzMismatch = "az_mismatch",
        Missing = "missing",
        Orphan = "orphan",
        AzWithoutHosts = "az_without_hosts",
        AzDiffers = "az_differs",
        MissingAllocation = "missing_allocation",
        OrphanedAllocation = "orphaned_allocation",
        WrongProvider = "wrong_provider",
        AzAggregateMissing = "az_aggregate_missing",
        AggregateMissing = "aggregate_missing",
        ExtraMembership = "extra_membership",
        SyncAggregatesReady = "sync_aggregates_ready",
        SyncAggregatesBlocked = "sync_aggregates_blocked",
        DuplicateComputeNodes = "duplicate_compute_nodes",
        ComputeNodeWithoutProvider = "compute_node_without_provider",
        ProviderNameMismatch = "provider_name_mismatch",
        ProviderWithoutComputeNode = "provider_without_compute_node",
        ProvidersUndecided = "providers_undecided",
        OnlyInChild = "only_in_child",
        DeletedInParent = "deleted_in_parent",
        Unmapped = "unmapped",
        UnmappedFlagStale = "unmapped_flag_stale",
        CellMisconfigured = "cell_misconfigured",
        CellUnreachable = "cell_unreachable",
        InstanceCellNameMissing = "instance_cell_name_missing",
        InstanceWrongCell = "instance_wrong_cell",
        InstanceUnknownCell = "instance_unknown_cell",
        DuplicateName = "duplicate_name",
        InstanceInMultipleCells = "instance_in_multiple_cells",
        InstanceMissingAtTop = "instance_missing_at_top",
        InstanceDeletedAtTop = "instance_deleted_at_top",
        InstanceDeletedInChild = "instance_deleted_in_child",
        InstanceGhostAtTop = "instance_ghost_at_top",
        InstanceDrift = "instance_drift",
        NameDiffersByCaseOrSpace = "name_differs_by_case_or_space",
        HostDiffersByCaseOrSpace = "host_differs_by_case_or_space",
        CellNotAudited = "cell_not_audited",
        UnmappedHost = "unmapped_host",
        ApiDatabaseNotGiven = "api_database_not_given",
        ApiDatabaseShared = "api_database_shared",
        LegacyAggregates = "legacy_aggregates",
        LegacyFlavors = "legacy_flavors",
        ReleaseMismatch = "release_mismatch",
        ComputeTooOld = "compute_too_old",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for (all, names) in [
            (
                Check::ALL.len(),
                Check::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ),
            (
                Kind::ALL.len(),
                Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            ),
        ] {
            let unique: std::collections::BTreeSet<_> = names.iter().collect();
            assert_eq!(unique.len(), all, "a name is declared twice: {names:?}");
        }
        for c in Check::ALL {
            assert_eq!(Check::from_name(c.as_str()), Some(*c));
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{c}\""));
        }
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{k}\""));
        }
        assert_eq!(Check::from_name("nope"), None);
    }

    #[test]
    fn order_and_padding_are_those_of_the_names() {
        assert!(Kind::ValueDiffers > Kind::UuidDiffers && Kind::AzDiffers < Kind::BuildStuck);
        assert!(Check::Hosts < Check::Instances && Check::AggregateHosts < Check::Aggregates);
        assert_eq!(format!("{:<8}|", Check::Hosts), "hosts   |");
        assert!(Kind::SpecValueDiffers.is_value_drift() && !Kind::MissingInChild.is_value_drift());
    }
}
