#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Java and Maven (for the Kafka broker's jars and
# Keycloak), PostgreSQL's server, Chromium (web tests), htmx (web console), the pinned Kafka jars and Keycloak server from Maven Central, and a
# Python virtualenv.
# Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
# The web tests drive Debian's Chromium; WeasyPrint (PDF forms) needs Pango and a font with Vietnamese.
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/*/libpango-1.0.so.0 >/dev/null 2>&1 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v npm >/dev/null || missing+=(npm)
command -v psql >/dev/null || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! ls infra/kafka/lib/kafka_2.13-*.jar >/dev/null 2>&1 || [ infra/kafka/pom.xml -nt infra/kafka/lib ]; then
  echo "[install] Kafka jars from Maven Central (infra/kafka/pom.xml)"
  rm -rf infra/kafka/lib
  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies
fi

# Keycloak's server distribution, unpacked and built once for PostgreSQL (profiles copy the built server).
KC_BUILT=$(ls -d infra/keycloak/dist/keycloak-*/lib/quarkus/build-system.properties 2>/dev/null | tail -1 || true)
if [ -z "$KC_BUILT" ] || [ infra/keycloak/pom.xml -nt "$KC_BUILT" ]; then
  echo "[install] Keycloak server from Maven Central (infra/keycloak/pom.xml)"
  rm -rf infra/keycloak/dist infra/keycloak/target  # the plugin's markers would skip the unpack
  mvn -q -B -f infra/keycloak/pom.xml dependency:unpack
  kc=$(ls -d infra/keycloak/dist/keycloak-* | tail -1)
  "$kc/bin/kc.sh" build --db=postgres --cache=local --health-enabled=true >/dev/null
fi

# htmx for the console's partial page updates, from the npm registry (no build step: served as it is).
HTMX_VERSION=2.0.11
if ! grep -qs "\"version\": \"$HTMX_VERSION\"" web-service/.vendor/node_modules/htmx.org/package.json; then
  echo "[install] htmx $HTMX_VERSION from the npm registry"
  npm install --silent --no-save --no-audit --no-fund --no-package-lock --prefix web-service/.vendor "htmx.org@$HTMX_VERSION" >/dev/null
fi

# Swagger UI for every service's /docs, from the npm registry (served from these files, not a CDN).
SWAGGER_UI_VERSION=5.35.0
if ! grep -qs "\"version\": \"$SWAGGER_UI_VERSION\"" services/.vendor/node_modules/swagger-ui-dist/package.json; then
  echo "[install] swagger-ui-dist $SWAGGER_UI_VERSION from the npm registry"
  npm install --silent --no-save --no-audit --no-fund --no-package-lock --prefix services/.vendor "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "[install] Python 3.11 or newer is required ($PYTHON is $("$PYTHON" --version))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "[install] Python virtualenv in .venv"
  "$PYTHON" -m venv .venv
fi
# The runtime packages (requirements.txt, all an image installs) and the tools that test, lint and
# measure (requirements-dev.txt); installed again when either file changes.
wanted=$(cat requirements.txt requirements-dev.txt)
if [ ! -f .venv/.requirements ] || [ "$wanted" != "$(cat .venv/.requirements)" ]; then
  echo "[install] Python packages (requirements-dev.txt, which includes requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  printf '%s\n' "$wanted" >.venv/.requirements
fi
