-- API DB aggregate members, as the service host name (or whatever the operator typed).
SELECT aggregate_id, host
FROM aggregate_hosts
WHERE host IS NOT NULL
ORDER BY aggregate_id, host
