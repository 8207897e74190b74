-- Each provider's aggregate uuids (placement_aggregates; nova_api from Ocata's API migration 029).
SELECT rpa.resource_provider_id, pa.uuid
FROM resource_provider_aggregates rpa
JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
ORDER BY rpa.resource_provider_id, pa.uuid
