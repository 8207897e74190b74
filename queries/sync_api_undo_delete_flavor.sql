-- sync --undo: remove one row this run inserted into a child's API database.
DELETE FROM flavors
WHERE id = ?
