-- Every instance row, unordered (the program sorts them), as uuid, deleted, cell_name and a 64-bit hash of the columns the
-- instances check compares: its hash mode (--instances-mode hash). No ORDER BY: sorting Nova's wide rows is what costs the
-- most in stream mode. cell_name is its own column because it is compared with the child that holds the row, not hashed.
-- Each compared column enters the hash as CHAR_LENGTH, ':', value, or 'n' when NULL: self-delimiting, so NULL, '' and
-- values shifted across a column boundary all hash differently (CONCAT_WS would skip NULLs). The first 64 bits of the MD5,
-- as a signed BIGINT (CONV to base -10). Column order: COMPARED in src/checks/instances.rs; from SQLite rows the program
-- computes the same hash (src/checks/instances/hash.rs), so cells on either database compare.
SELECT uuid, deleted, cell_name,
       CAST(CONV(LEFT(MD5(CONCAT(
           IFNULL(CONCAT(CHAR_LENGTH(host), ':', host), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(node), ':', node), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(vm_state), ':', vm_state), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(task_state), ':', task_state), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(power_state), ':', power_state), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(availability_zone), ':', availability_zone), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(project_id), ':', project_id), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(user_id), ':', user_id), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(instance_type_id), ':', instance_type_id), 'n'),
           IFNULL(CONCAT(CHAR_LENGTH(display_name), ':', display_name), 'n')
       )), 16), 16, -10) AS SIGNED) AS compared_hash
FROM instances
