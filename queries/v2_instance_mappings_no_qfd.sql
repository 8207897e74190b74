-- Instance mappings before Stein added queued_for_delete (NULL there means "not known").
SELECT im.instance_uuid, cm.uuid, im.project_id, NULL
FROM instance_mappings im
LEFT JOIN cell_mappings cm ON cm.id = im.cell_id
ORDER BY im.instance_uuid
