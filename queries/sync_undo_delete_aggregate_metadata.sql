-- sync --undo: remove a metadata row this tool inserted.
DELETE FROM aggregate_metadata
WHERE id = ?
