-- Every instance of a cell in uuid order (NOCASE folds ASCII case as the program does).
SELECT uuid, display_name, host, node, task_state, deleted, hidden
FROM instances
ORDER BY uuid COLLATE NOCASE
