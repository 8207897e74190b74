-- The parent's live flavors with every column a copy needs; read in the audit's snapshot.
SELECT id, created_at, updated_at, name, memory_mb, vcpus, swap, vcpu_weight, flavorid,
       rxtx_factor, root_gb, ephemeral_gb, disabled, is_public
FROM instance_types
WHERE deleted = 0
ORDER BY id
