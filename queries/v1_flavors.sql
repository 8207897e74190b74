-- Every flavor row, soft-deleted ones included: "deleted in the parent but live in a child" needs both.
-- Columns after `deleted` are the compared ones, in the order src/checks/flavors.rs lists them.
SELECT flavorid, id, deleted, name, memory_mb, vcpus, swap, vcpu_weight, rxtx_factor,
       root_gb, ephemeral_gb, disabled, is_public
FROM instance_types
ORDER BY flavorid, deleted
