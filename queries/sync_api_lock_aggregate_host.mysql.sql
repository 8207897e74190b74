-- sync re-check in a child's API database: one membership of one aggregate.
SELECT id, host
FROM aggregate_hosts
WHERE aggregate_id = ? AND host = ?
FOR UPDATE
