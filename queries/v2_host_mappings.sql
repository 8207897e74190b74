-- Which cell each compute host is mapped to (the API DB has no soft delete).
SELECT hm.host, cm.uuid
FROM host_mappings hm
JOIN cell_mappings cm ON cm.id = hm.cell_id
ORDER BY hm.host
