#!/bin/sh
# Runs once, when the PostgreSQL volume is initialised (docker-entrypoint-initdb.d): creates the
# services' login roles, and the auditors' read-only SQL role, with passwords. The ledger's migrations
# create these roles only when they are missing, then grant each exactly what it needs (writer:
# INSERT/SELECT on the ledger; reader: SELECT; rotation: the personal-data table; auditor: the v_* views).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v writer="$CADRE_WRITER_PASSWORD" -v reader="$CADRE_READER_PASSWORD" \
  -v rotation="$CADRE_ROTATION_PASSWORD" -v auditor="$CADRE_AUDITOR_PASSWORD" <<'SQL'
CREATE ROLE cadre_writer LOGIN PASSWORD :'writer';
CREATE ROLE cadre_reader LOGIN PASSWORD :'reader';
CREATE ROLE cadre_rotation LOGIN PASSWORD :'rotation';
CREATE ROLE cadre_auditor LOGIN PASSWORD :'auditor';
SQL
