-- Instances still being built: their mapping has no cell yet. created_at tells a build in flight from a stuck one.
SELECT instance_uuid, created_at
FROM build_requests
WHERE instance_uuid IS NOT NULL
ORDER BY instance_uuid
