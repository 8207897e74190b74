-- An upper bound of the instances table's row count without a scan: its largest rowid (id is the rowid).
SELECT MAX(rowid)
FROM instances
