-- Every consumer's providers, one row per consumer in consumer order, streamed and merge-joined with the cells'
-- instances by uuid. utf8(mb3|mb4)_general_ci orders uuids as the program's ASCII-case-folded comparison does;
-- the program checks the order as rows arrive.
SELECT consumer_id,
       GROUP_CONCAT(DISTINCT CAST(resource_provider_id AS CHAR) ORDER BY resource_provider_id SEPARATOR ',') AS providers
FROM allocations
GROUP BY consumer_id
ORDER BY consumer_id
