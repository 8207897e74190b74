-- sync re-check inside the write transaction: live aggregates with this name or uuid (must be none before a copy is inserted); BEGIN IMMEDIATE already holds the database's write lock.
SELECT id, name, uuid
FROM aggregates
WHERE (name = ? OR uuid = ?) AND deleted = 0
