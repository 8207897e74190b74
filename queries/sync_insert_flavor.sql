-- sync: copy one parent flavor into a child with the parent's id (cells v1 copies instances.instance_type_id up unchanged).
INSERT INTO instance_types (created_at, updated_at, deleted_at, name, id, memory_mb, vcpus, swap, vcpu_weight,
                            flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted)
VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
