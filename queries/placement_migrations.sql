-- Migrations in progress: the statuses nova/db/main/api.py migration_get_in_progress_by_host_and_node does not
-- exclude. Their uuid holds the source node's allocation during a move (migration-based allocations, Queens+).
SELECT uuid, instance_uuid, source_compute, source_node, dest_compute, dest_node, status
FROM migrations
WHERE deleted = 0
  AND status NOT IN ('confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done')
ORDER BY id
