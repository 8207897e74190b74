-- Schema version of a sqlalchemy-migrate-era Nova database (up to Wallaby).
SELECT version FROM migrate_version
