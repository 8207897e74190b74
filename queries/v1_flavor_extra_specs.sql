-- Live flavor extra specs by internal flavor id; `key` is utf8_bin, so keys differing only in case are distinct.
-- Specs of soft-deleted flavors are dropped later, when they are joined to the live flavors.
SELECT instance_type_id, `key`, value
FROM instance_type_extra_specs
WHERE deleted = 0
ORDER BY instance_type_id, `key`
