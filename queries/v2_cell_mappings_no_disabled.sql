-- The cells before Rocky's API migration 058 added cell_mappings.disabled: no cell can be disabled there.
SELECT uuid, name, database_connection, 0
FROM cell_mappings
ORDER BY id
