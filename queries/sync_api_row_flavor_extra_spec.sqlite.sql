-- sync: one API-database flavor_extra_specs row by id (journal and undo).
SELECT id, created_at, updated_at, flavor_id, `key`, value
FROM flavor_extra_specs
WHERE id = ?
