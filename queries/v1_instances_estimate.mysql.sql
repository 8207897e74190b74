-- The server's estimate of the instances table's row count (InnoDB statistics: no scan), for --instances-mode auto.
SELECT TABLE_ROWS
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'instances'
