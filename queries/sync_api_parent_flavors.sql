-- The flavors of a parent's API database with every column a copy needs, in sync_parent_flavors.sql's order.
SELECT id, created_at, updated_at, name, memory_mb, vcpus, swap, vcpu_weight, flavorid,
       rxtx_factor, root_gb, ephemeral_gb, disabled, is_public
FROM flavors
ORDER BY id
