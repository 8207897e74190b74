-- Every resource provider with its tree (placement's resource_providers; in nova_api from Newton's API migration 016).
SELECT id, uuid, name, root_provider_id, parent_provider_id
FROM resource_providers
ORDER BY id
