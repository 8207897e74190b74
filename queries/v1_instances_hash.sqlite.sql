-- Every instance row, unordered (the program sorts them), for the instances check's hash mode (--instances-mode hash).
-- SQLite has no MD5: the program hashes the compared columns (in COMPARED order of src/checks/instances.rs) exactly as
-- queries/v1_instances_hash.mysql.sql does on the server, so cells on either database compare.
SELECT uuid, deleted, cell_name,
       host, node, vm_state, task_state, power_state, availability_zone, project_id, user_id, instance_type_id, display_name
FROM instances
