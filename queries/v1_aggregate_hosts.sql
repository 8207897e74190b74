-- Live aggregate memberships; aggregate_delete leaves these rows alone, so they are joined to live aggregates later.
SELECT aggregate_id, host
FROM aggregate_hosts
WHERE deleted = 0
ORDER BY aggregate_id, host
