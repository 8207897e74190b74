-- sync --undo: rows still pointing at an API-database aggregate about to be removed (each ? is its id).
SELECT (SELECT COUNT(*) FROM aggregate_hosts WHERE aggregate_id = ?)
     + (SELECT COUNT(*) FROM aggregate_metadata WHERE aggregate_id = ?)
