-- Every instance of a cell in uuid order (soft-deleted ones too: an allocation of a deleted instance is orphaned,
-- and saying so names the cause), streamed and merge-joined with placement's consumers.
SELECT uuid, display_name, host, node, task_state, deleted, hidden
FROM instances
ORDER BY uuid
