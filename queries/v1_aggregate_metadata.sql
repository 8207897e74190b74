-- Live aggregate metadata; the key availability_zone makes an aggregate an AZ.
SELECT aggregate_id, `key`, value
FROM aggregate_metadata
WHERE deleted = 0
ORDER BY aggregate_id, `key`
