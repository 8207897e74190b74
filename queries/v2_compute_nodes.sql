-- Live compute nodes of a cell; `mapped` is what discover_hosts trusts.
SELECT host, hypervisor_hostname, mapped
FROM compute_nodes
WHERE deleted = 0 AND host IS NOT NULL
ORDER BY host, hypervisor_hostname
