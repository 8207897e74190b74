-- sync: one extra spec of a flavor, under the child's own flavor id (keys are utf8_bin: copied byte for byte).
INSERT INTO instance_type_extra_specs (created_at, updated_at, deleted_at, instance_type_id, `key`, value, deleted)
VALUES (?, NULL, NULL, ?, ?, ?, 0)
