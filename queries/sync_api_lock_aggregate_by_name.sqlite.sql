-- sync re-check in a child's API database: aggregates with this name or uuid (must be none before a copy is inserted; both are UNIQUE there).
SELECT id, name, uuid
FROM aggregates
WHERE name = ? OR uuid = ?
