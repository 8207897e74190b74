-- Flavor access rows of an API database by internal flavor id, shaped like v1_flavor_projects.sql.
SELECT flavor_id, project_id
FROM flavor_projects
ORDER BY flavor_id, project_id
