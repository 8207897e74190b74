-- Which cell each instance is mapped to; cell_id is NULL while building (or orphaned). queued_for_delete (API 061)
-- and user_id (API 062) are what counting quota from placement relies on.
SELECT im.instance_uuid, cm.uuid, im.project_id, im.queued_for_delete, im.user_id, im.created_at
FROM instance_mappings im
LEFT JOIN cell_mappings cm ON cm.id = im.cell_id
ORDER BY im.instance_uuid
