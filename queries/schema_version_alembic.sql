-- Schema revision of an alembic-era Nova database (Xena and later).
SELECT version_num FROM alembic_version
