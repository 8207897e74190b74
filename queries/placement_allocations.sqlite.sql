-- Every consumer's providers, one row per consumer in consumer order (NOCASE folds ASCII case as the program does).
SELECT consumer_id COLLATE NOCASE AS consumer_id, GROUP_CONCAT(DISTINCT resource_provider_id) AS providers
FROM allocations
GROUP BY consumer_id COLLATE NOCASE
ORDER BY consumer_id COLLATE NOCASE
