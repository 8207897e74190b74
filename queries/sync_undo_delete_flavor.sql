-- sync --undo: remove a flavor this tool inserted (its extra specs are removed first).
DELETE FROM instance_types
WHERE id = ?
