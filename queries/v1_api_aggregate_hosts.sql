-- Aggregate memberships of a Newton+ API database, shaped like v1_aggregate_hosts.sql.
SELECT aggregate_id, host
FROM aggregate_hosts
ORDER BY aggregate_id, host
