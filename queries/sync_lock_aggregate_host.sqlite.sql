-- sync re-check inside the write transaction: the live membership of one host (must be none before it is inserted).
SELECT id, host
FROM aggregate_hosts
WHERE aggregate_id = ? AND host = ? AND deleted = 0
