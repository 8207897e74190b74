-- Every aggregate row, soft-deleted ones included: "deleted in the parent but live in a child" needs both.
SELECT id, name, uuid, deleted
FROM aggregates
ORDER BY id
