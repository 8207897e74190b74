-- Live instances per (host, cell_name), with one example uuid: distinct pairs only, so a cell
-- with a million instances returns one row per host it uses, not one per instance.
-- Instances with no host (building, or ERROR before scheduling) are not placed anywhere yet.
SELECT host, cell_name, COUNT(*), MIN(uuid)
FROM instances
WHERE deleted = 0 AND host IS NOT NULL
GROUP BY host, cell_name
ORDER BY host, cell_name
