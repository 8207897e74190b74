-- Live rows of a cell DB's legacy (pre-Newton) key_pairs table.
SELECT user_id, name
FROM key_pairs
WHERE deleted = 0
ORDER BY user_id, name
