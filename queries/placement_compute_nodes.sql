-- A cell's compute nodes with the uuid that is their resource provider's uuid (compute_nodes.uuid, main migration 317);
-- soft-deleted ones too, so a provider left behind by a deleted node can be told from one nobody knows.
SELECT uuid, host, hypervisor_hostname, hypervisor_type, deleted
FROM compute_nodes
WHERE uuid IS NOT NULL
ORDER BY host, hypervisor_hostname, id
