-- Instances before Train added `hidden` (main 399, cross-cell resize): nothing is hidden there.
SELECT uuid, display_name, host, availability_zone, vm_state, deleted, 0,
       task_state,
       COALESCE(deleted_at, updated_at, created_at) AS changed_at
FROM instances
ORDER BY uuid
