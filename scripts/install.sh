#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Java and Maven (for the Kafka broker's jars and
# Keycloak), PostgreSQL's server, Chromium (web tests), htmx (web console), the pinned Kafka jars and Keycloak server from Maven Central, and a
# Python virtualenv.
# Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Each step says what it does before it starts and how long it took; nothing is said when every step
# is skipped but one line at the end.
started=$SECONDS
steps=0
step() {  # step "what" command...: announce, run, time
  local what=$1 begun=$SECONDS
  shift
  echo "[install] $what…"
  "$@"
  steps=$((steps + 1))
  echo "[install] $what: done in $((SECONDS - begun)) s"
}

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
apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if [ ${#missing[@]} -gt 0 ]; then
  step "Debian packages: ${missing[*]}" apt_install "${missing[@]}"
fi

if ! ls infra/kafka/lib/kafka_2.13-*.jar >/dev/null 2>&1 || [ infra/kafka/pom.xml -nt infra/kafka/lib ]; then
  rm -rf infra/kafka/lib
  step "Kafka jars from Maven Central (infra/kafka/pom.xml)" mvn -q -B -Dstyle.color=never -f infra/kafka/pom.xml dependency:copy-dependencies
fi

# Keycloak's server distribution, unpacked and built once for PostgreSQL (profiles copy the built server).
KC_BUILT=$(ls -d infra/keycloak/dist/keycloak-*/lib/quarkus/build-system.properties 2>/dev/null | tail -1 || true)
if [ -z "$KC_BUILT" ] || [ infra/keycloak/pom.xml -nt "$KC_BUILT" ]; then
  rm -rf infra/keycloak/dist infra/keycloak/target  # the plugin's markers would skip the unpack
  step "Keycloak server from Maven Central (infra/keycloak/pom.xml)" mvn -q -B -Dstyle.color=never -f infra/keycloak/pom.xml dependency:unpack
  kc=$(ls -d infra/keycloak/dist/keycloak-* | tail -1)
  kc_build() { "$kc/bin/kc.sh" build --db=postgres --cache=local --health-enabled=true >/dev/null; }
  step "Keycloak's server built for PostgreSQL (kc.sh build)" kc_build
fi

# htmx for the console's partial page updates, from the npm registry (no build step: served as it is).
HTMX_VERSION=2.0.11
if ! grep -qs "\"version\": \"$HTMX_VERSION\"" web-service/.vendor/node_modules/htmx.org/package.json; then
  npm_htmx() {
    npm install --silent --no-save --no-audit --no-fund --no-package-lock --prefix web-service/.vendor "htmx.org@$HTMX_VERSION" >/dev/null
  }
  step "htmx $HTMX_VERSION from the npm registry" npm_htmx
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
  step "Python virtualenv in .venv" "$PYTHON" -m venv .venv
fi
# The runtime packages (requirements.txt, all an image installs) and the tools that test, lint and
# measure (requirements-dev.txt); installed again when either file changes.
wanted=$(cat requirements.txt requirements-dev.txt)
pip_install() {
  # On a terminal pip draws its own progress bars (which -q would hide); elsewhere (CI, a log) a line
  # every 10 packages collected and one with how many were installed.
  if [ -t 1 ]; then
    .venv/bin/pip install --progress-bar on --disable-pip-version-check -r requirements-dev.txt
  else
    .venv/bin/pip install --progress-bar off --disable-pip-version-check -r requirements-dev.txt |
      awk '/^Collecting / { n++; if (n % 10 == 0) { print "[install]   pip: " n " packages collected"; fflush() } }
           /^Successfully installed / { print "[install]   pip: " (NF - 2) " packages installed"; fflush() }'
  fi
}
if [ ! -f .venv/.requirements ] || [ "$wanted" != "$(cat .venv/.requirements)" ]; then
  step "Python packages (requirements-dev.txt, which includes requirements.txt)" pip_install
  printf '%s\n' "$wanted" >.venv/.requirements
fi

if [ "$steps" -eq 0 ]; then
  echo "[install] everything in place"
else
  echo "[install] $steps step(s) done in $((SECONDS - started)) s"
fi
