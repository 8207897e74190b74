-- Snapshot reads need REPEATABLE READ whatever the server's default is.
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ
