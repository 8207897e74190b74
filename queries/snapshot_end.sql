-- Nothing was written: ending the snapshot only releases it.
ROLLBACK
