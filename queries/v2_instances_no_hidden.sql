-- Instances before Train added `hidden` (cross-cell resize): nothing is hidden there.
SELECT uuid, display_name, host, availability_zone, vm_state, deleted, 0
FROM instances
ORDER BY uuid
