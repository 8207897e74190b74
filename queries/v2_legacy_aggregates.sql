-- Live rows of a cell DB's legacy (pre-Newton) aggregates table, with their AZ and member count.
SELECT a.name,
       (SELECT MIN(m.value) FROM aggregate_metadata m
         WHERE m.aggregate_id = a.id AND m.deleted = 0 AND m.`key` = 'availability_zone'),
       (SELECT COUNT(*) FROM aggregate_hosts h WHERE h.aggregate_id = a.id AND h.deleted = 0)
FROM aggregates a
WHERE a.deleted = 0
ORDER BY a.name
