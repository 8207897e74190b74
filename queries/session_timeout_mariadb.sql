-- MariaDB's per-session statement timeout, in seconds.
SET SESSION max_statement_time = ?
