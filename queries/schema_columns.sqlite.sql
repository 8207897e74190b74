-- Every table and column of the connected database: lets a check skip cleanly on an older or newer Nova.
-- Nova's SQLite columns declare no COLLATE: they compare bytes (NULL here means exact).
SELECT m.name, p.name, NULL
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type = 'table'
