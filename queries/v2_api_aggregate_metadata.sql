-- API DB aggregate metadata; the key availability_zone makes an aggregate an AZ.
SELECT aggregate_id, `key`, value
FROM aggregate_metadata
ORDER BY aggregate_id, `key`
