-- sync --undo: rows of any state that still point at an aggregate about to be removed (must be none: SQLite does not enforce the foreign keys).
SELECT (SELECT COUNT(*) FROM aggregate_hosts WHERE aggregate_id = ?)
     + (SELECT COUNT(*) FROM aggregate_metadata WHERE aggregate_id = ?)
