-- sync --undo: rows of any state that point at a flavor about to be removed: specs and access rows the sync did not
-- write, and instances built with it since (SQLite does not enforce the foreign keys; instances have none).
SELECT (SELECT COUNT(*) FROM instance_type_extra_specs WHERE instance_type_id = ?)
     + (SELECT COUNT(*) FROM instance_type_projects WHERE instance_type_id = ?)
     + (SELECT COUNT(*) FROM instances WHERE instance_type_id = ?)
