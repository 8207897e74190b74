-- Flavors of a Mitaka+ API database (api_migrations 005_flavors): no soft delete, every row is live.
-- Shaped like v1_flavors.sql so the flavors check reads either.
SELECT flavorid, id, 0 AS deleted, name, memory_mb, vcpus, swap, vcpu_weight, rxtx_factor,
       root_gb, ephemeral_gb, disabled, is_public
FROM flavors
ORDER BY flavorid
