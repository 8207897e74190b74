-- sync --fix-drift, Newton to Stein: set one extra spec in a child's API database, only if it still holds the planned old value.
UPDATE flavor_extra_specs
SET value = ?, updated_at = ?
WHERE flavor_id = ? AND `key` = ? AND value = ?
