-- Live compute nodes before Pike's main migration 360 added compute_nodes.mapped: NULL says "no such flag"
-- (Ocata's discover_hosts looks up each node's host mapping instead).
SELECT host, hypervisor_hostname, NULL, uuid
FROM compute_nodes
WHERE deleted = 0 AND host IS NOT NULL
ORDER BY host, hypervisor_hostname
