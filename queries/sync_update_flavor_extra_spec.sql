-- sync --fix-drift: set a drifted extra spec to the parent's value; the old value in WHERE makes a concurrent change match nothing.
UPDATE instance_type_extra_specs
SET value = ?, updated_at = ?
WHERE instance_type_id = ? AND `key` = ? AND value = ? AND deleted = 0
