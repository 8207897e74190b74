-- sync --undo: remove an extra spec this tool inserted.
DELETE FROM instance_type_extra_specs
WHERE id = ?
