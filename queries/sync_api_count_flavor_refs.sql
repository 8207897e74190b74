-- sync --undo: rows still pointing at an API-database flavor about to be removed (each ? is its id).
SELECT (SELECT COUNT(*) FROM flavor_extra_specs WHERE flavor_id = ?)
     + (SELECT COUNT(*) FROM flavor_projects WHERE flavor_id = ?)
