-- sync: one instance_types row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, deleted_at, name, memory_mb, vcpus, swap, vcpu_weight, flavorid,
       rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted
FROM instance_types
WHERE id = ?
