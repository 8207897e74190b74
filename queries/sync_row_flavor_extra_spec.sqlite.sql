-- sync: one instance_type_extra_specs row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, deleted_at, instance_type_id, `key`, value, deleted
FROM instance_type_extra_specs
WHERE id = ?
