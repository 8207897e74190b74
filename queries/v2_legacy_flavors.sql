-- Live rows of a cell DB's legacy (pre-Mitaka/Newton) instance_types table.
SELECT flavorid, name
FROM instance_types
WHERE deleted = 0
ORDER BY flavorid
