-- One read-only transaction whose reads all see the same instant.
START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY
