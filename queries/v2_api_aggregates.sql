-- API DB aggregates (Newton+); no soft delete in the API DB.
SELECT id, name, uuid
FROM aggregates
ORDER BY name
