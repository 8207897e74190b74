-- Every instance of a cell (soft-deleted ones too: a mapping to a deleted instance is not an orphan).
-- changed_at: when the row last changed (soft delete does not bump updated_at), for --lag.
SELECT uuid, display_name, host, availability_zone, vm_state, deleted, hidden,
       task_state,
       COALESCE(deleted_at, updated_at, created_at) AS changed_at
FROM instances
ORDER BY uuid
