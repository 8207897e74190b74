-- sync re-check inside the write transaction: live aggregates with this name or uuid (must be none before a copy is inserted); locks the rows (and, with no index on name, the gaps) so no one inserts one until COMMIT.
SELECT id, name, uuid
FROM aggregates
WHERE (name = ? OR uuid = ?) AND deleted = 0
FOR UPDATE
