-- Every instance of a cell in uuid order, before Train's instances.hidden (main migration 399).
SELECT uuid, display_name, host, node, task_state, deleted, 0 AS hidden
FROM instances
ORDER BY uuid
