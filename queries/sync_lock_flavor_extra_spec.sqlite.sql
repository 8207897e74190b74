-- sync re-check inside the write transaction: the live value of one extra spec (none before an insert; the planned old value before an update).
SELECT id, value, updated_at
FROM instance_type_extra_specs
WHERE instance_type_id = ? AND `key` = ? AND deleted = 0
