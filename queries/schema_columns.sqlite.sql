-- Every table and column of the connected database: lets a check skip cleanly on an older or newer Nova.
SELECT m.name, p.name
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.type = 'table'
