-- Providers with VCPU, MEMORY_MB or DISK_GB inventory (standard resource class ids 0, 1, 2 in os-resource-classes'
-- order, the same since Newton): what a compute node provider has when it predates the COMPUTE_NODE trait.
SELECT DISTINCT resource_provider_id
FROM inventories
WHERE resource_class_id IN (0, 1, 2)
ORDER BY resource_provider_id
