-- Migrations in progress before migrations.uuid (main migration 362, Pike): no consumer can be a migration's.
SELECT NULL AS uuid, instance_uuid, source_compute, source_node, dest_compute, dest_node, status
FROM migrations
WHERE deleted = 0
  AND status NOT IN ('confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done')
ORDER BY id
