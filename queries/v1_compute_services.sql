-- Hosts that run a live nova-compute in this database: where a host "lives".
SELECT host, disabled
FROM services
WHERE deleted = 0 AND `binary` = 'nova-compute'
ORDER BY host
