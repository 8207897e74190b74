-- Instance mappings before Rocky added queued_for_delete (API 061) and Stein user_id (API 062): NULL means "no such column".
SELECT im.instance_uuid, cm.uuid, im.project_id, NULL, NULL, im.created_at
FROM instance_mappings im
LEFT JOIN cell_mappings cm ON cm.id = im.cell_id
ORDER BY im.instance_uuid
