-- Every nova-compute service of a cell, soft-deleted ones too, to tell "deleted" from "never existed".
SELECT host, deleted, disabled
FROM services
WHERE `binary` = 'nova-compute' AND host IS NOT NULL
ORDER BY host, deleted
