#!/usr/bin/env bash
# docker-compose.yml's PostgreSQL, made ready at its first start (the postgres image runs the scripts
# of /docker-entrypoint-initdb.d/ once, into an empty data volume): one login per service, owning its
# schema in the `motcua` database and nothing else, and Keycloak's login owning a database of its
# own, as `infra.stack` arranges for development. The passwords come from the environment (the
# compose file requires each one). Changing one later is an `ALTER ROLE ... PASSWORD` by hand: this
# script does not run again.
set -euo pipefail

sql() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$1" "${@:2}"; }

for login in intake routing deadline notify keycloak; do
  password_var="${login^^}_DB_PASSWORD"
  # psql's :"name" and :'value' quote what they insert: a password is data, never SQL.
  sql postgres -v login="$login" -v password="${!password_var:?$password_var is required}" <<'SQL'
CREATE ROLE :"login" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SQL
done

sql "$POSTGRES_DB" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
for login in intake routing deadline notify; do
  sql "$POSTGRES_DB" -v login="$login" <<'SQL'
CREATE SCHEMA :"login" AUTHORIZATION :"login";
REVOKE ALL ON SCHEMA :"login" FROM PUBLIC;
SQL
done

sql postgres <<'SQL'
CREATE DATABASE keycloak OWNER keycloak;
SQL
