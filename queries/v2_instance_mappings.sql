-- Which cell each instance is mapped to; cell_id is NULL while building (or orphaned).
SELECT im.instance_uuid, cm.uuid, im.project_id, im.queued_for_delete
FROM instance_mappings im
LEFT JOIN cell_mappings cm ON cm.id = im.cell_id
ORDER BY im.instance_uuid
