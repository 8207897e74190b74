-- sync, Newton to Stein: copy one parent flavor into a child's API database with the parent's id.
INSERT INTO flavors (created_at, updated_at, name, id, memory_mb, vcpus, swap, vcpu_weight,
                     flavorid, rxtx_factor, root_gb, ephemeral_gb, disabled, is_public)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
