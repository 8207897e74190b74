-- sync: one API-database flavors row by id (journal and undo).
SELECT id, created_at, updated_at, name, memory_mb, vcpus, swap, vcpu_weight, flavorid,
       rxtx_factor, root_gb, ephemeral_gb, disabled, is_public
FROM flavors
WHERE id = ?
