-- Live compute nodes of a cell; `mapped` is what discover_hosts trusts, `uuid` is the placement provider's uuid.
SELECT host, hypervisor_hostname, mapped, uuid
FROM compute_nodes
WHERE deleted = 0 AND host IS NOT NULL
ORDER BY host, hypervisor_hostname
