-- Every table and column of the connected database: lets a check skip cleanly on an older or newer Nova.
-- COLLATION_NAME says how each text column compares (case, trailing spaces): see src/collation.rs.
SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
