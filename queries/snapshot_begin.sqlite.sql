-- A deferred transaction takes its snapshot at the first read and keeps it to the end.
BEGIN
