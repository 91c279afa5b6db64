#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# groupdesk's own role and database beside Temporal's, owned by that role and by no one else.
set -eu
: "${GROUPDESK_DB_PASSWORD:?set GROUPDESK_DB_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v password="$GROUPDESK_DB_PASSWORD" <<'SQL'
CREATE ROLE groupdesk LOGIN PASSWORD :'password';
CREATE DATABASE groupdesk OWNER groupdesk;
REVOKE ALL ON DATABASE groupdesk FROM PUBLIC;
SQL
