-- Every instance of a cell (soft-deleted ones too: a mapping to a deleted instance is not an orphan).
SELECT uuid, display_name, host, availability_zone, vm_state, deleted, hidden
FROM instances
ORDER BY uuid
