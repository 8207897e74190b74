-- Flavor extra specs of an API database by internal flavor id, shaped like v1_flavor_extra_specs.sql.
SELECT flavor_id, `key`, value
FROM flavor_extra_specs
ORDER BY flavor_id, `key`
