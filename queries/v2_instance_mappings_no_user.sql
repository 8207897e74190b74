-- Instance mappings of Rocky: queued_for_delete (API 061) but no user_id yet (API 062, Stein).
SELECT im.instance_uuid, cm.uuid, im.project_id, im.queued_for_delete, NULL, im.created_at
FROM instance_mappings im
LEFT JOIN cell_mappings cm ON cm.id = im.cell_id
ORDER BY im.instance_uuid
