-- Every instance row in uuid order, soft-deleted ones included ("deleted at the top but live in a child" needs both),
-- with only the columns the instances check compares. Streamed and merge-joined; the program checks the order as rows arrive.
-- SQLite compares text bytewise by default; NOCASE folds ASCII case as the program's comparison (and MySQL's general_ci) do.
-- changed_at: soft delete does not bump updated_at, and a row never saved since creation has none.
SELECT uuid, display_name, deleted,
       COALESCE(deleted_at, updated_at, created_at) AS changed_at,
       cell_name, host, node, vm_state, task_state, power_state,
       availability_zone, project_id, user_id, instance_type_id
FROM instances
ORDER BY uuid COLLATE NOCASE
