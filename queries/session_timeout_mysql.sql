-- MySQL's per-session timeout for SELECTs, in milliseconds (MariaDB does not know it).
SET SESSION max_execution_time = ?
