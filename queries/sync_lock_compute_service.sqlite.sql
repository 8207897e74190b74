-- sync re-check inside the write transaction: the host still runs a live nova-compute in this child.
SELECT id, host
FROM services
WHERE host = ? AND `binary` = 'nova-compute' AND deleted = 0
