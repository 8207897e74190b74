-- Every table and column of the connected database: lets a check skip cleanly on an older or newer Nova.
SELECT TABLE_NAME, COLUMN_NAME
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
