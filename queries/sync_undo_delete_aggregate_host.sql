-- sync --undo: remove a membership row this tool inserted.
DELETE FROM aggregate_hosts
WHERE id = ?
