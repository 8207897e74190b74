-- Aggregate metadata of a Newton+ API database, shaped like v1_aggregate_metadata.sql.
SELECT aggregate_id, `key`, value
FROM aggregate_metadata
ORDER BY aggregate_id, `key`
