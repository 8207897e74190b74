-- Instances still being built: their mapping has no cell yet.
SELECT instance_uuid
FROM build_requests
WHERE instance_uuid IS NOT NULL
ORDER BY instance_uuid
