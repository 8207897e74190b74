-- Each instance's request spec, with only what follows the first '"availability_zone": ' of the serialised spec.
-- The spec is jsonutils.dumps(RequestSpec.obj_to_primitive()) (nova/objects/request_spec.py @17.0.0, _get_update_primitives),
-- so the key is written with Python json's ': ' separator; the program parses the JSON value that starts the excerpt.
-- INSTR/SUBSTR: the same text works on MySQL, MariaDB and SQLite, and no blob larger than the excerpt leaves the server.
SELECT instance_uuid,
       CASE WHEN INSTR(spec, '"availability_zone": ') > 0
            THEN SUBSTR(spec, INSTR(spec, '"availability_zone": ') + 21, 2000) END,
       created_at
FROM request_specs
ORDER BY instance_uuid
