-- The traits that tell whose a provider is: COMPUTE_NODE and OWNER_NOVA (set by nova-compute on its compute node
-- providers, nova/compute/resource_tracker.py) and MISC_SHARES_VIA_AGGREGATE (a sharing provider).
SELECT rpt.resource_provider_id, t.name
FROM resource_provider_traits rpt
JOIN traits t ON t.id = rpt.trait_id
WHERE t.name IN ('COMPUTE_NODE', 'OWNER_NOVA', 'MISC_SHARES_VIA_AGGREGATE')
ORDER BY rpt.resource_provider_id, t.name
