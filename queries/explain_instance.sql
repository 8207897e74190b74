-- One instance by uuid, soft-deleted rows included, with the columns the parent mirrors from the child.
SELECT uuid, display_name, host, node, vm_state, task_state, power_state, availability_zone,
       project_id, user_id, instance_type_id, cell_name, deleted, updated_at
FROM instances
WHERE uuid = ?
ORDER BY deleted
