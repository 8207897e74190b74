-- Every instance row, unordered (the program sorts them), for the instances check's hash mode (--instances-mode hash):
-- uuid, deleted, cell_name (compared with the child that holds the row, so not hashed), then the compared columns in the
-- order of COMPARED in src/checks/instances.rs, which the program hashes as rows arrive and drops. No ORDER BY: sorting
-- Nova's wide rows is what costs the most in stream mode. Hashing on the server (MD5 of the columns) was measured and
-- cost MariaDB more CPU than it saves in transfer (see src/checks/instances/hash.rs), and SQLite has no MD5.
SELECT uuid, deleted, cell_name,
       host, node, vm_state, task_state, power_state, availability_zone, project_id, user_id, instance_type_id,
       display_name
FROM instances
