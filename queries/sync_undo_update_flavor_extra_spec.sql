-- sync --undo: put back the value and updated_at a --fix-drift update replaced.
UPDATE instance_type_extra_specs
SET value = ?, updated_at = ?
WHERE id = ?
