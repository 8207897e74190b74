-- sync, Newton to Stein: one extra spec of a flavor in a child's API database.
INSERT INTO flavor_extra_specs (created_at, updated_at, flavor_id, `key`, value)
VALUES (?, NULL, ?, ?, ?)
