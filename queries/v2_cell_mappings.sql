-- The cells of a cells v2 deployment, as nova_api registers them; database_connection may be a template.
SELECT uuid, name, database_connection, disabled
FROM cell_mappings
ORDER BY id
