-- sync: copy one parent flavor into a child whose row with the parent's id is taken; the child assigns the id.
INSERT INTO instance_types (created_at, updated_at, deleted_at, name, memory_mb, vcpus, swap, vcpu_weight,
                            flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public, deleted)
VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
