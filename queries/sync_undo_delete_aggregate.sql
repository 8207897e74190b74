-- sync --undo: remove an aggregate this tool inserted (its metadata and hosts are removed first).
DELETE FROM aggregates
WHERE id = ?
