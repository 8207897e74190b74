-- Live flavor access rows (projects allowed to use a private flavor) by internal flavor id.
SELECT instance_type_id, project_id
FROM instance_type_projects
WHERE deleted = 0
ORDER BY instance_type_id, project_id
