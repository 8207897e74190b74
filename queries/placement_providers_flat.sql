-- Resource providers before nested providers (nova_api before Queens' root_provider_id/parent_provider_id): all roots.
SELECT id, uuid, name, id AS root_provider_id, NULL AS parent_provider_id
FROM resource_providers
ORDER BY id
