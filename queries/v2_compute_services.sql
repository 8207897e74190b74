-- Every nova-compute service of a cell, soft-deleted ones too, to tell "deleted" from "never existed";
-- version (the service's RPC object version), forced_down and last heartbeat for the upgrade and two-cells checks.
SELECT host, deleted, disabled, version, COALESCE(last_seen_up, updated_at, created_at), forced_down
FROM services
WHERE `binary` = 'nova-compute' AND host IS NOT NULL
ORDER BY host, deleted
