# syntax=docker/dockerfile:1
# The images of docker-compose.yml, built from the repository root:
#   docker build --target service --build-arg SERVICE=intake -t motcua-intake .   (routing, deadline, notify alike)
#   docker build --target web -t motcua-web .     the web console
#   docker build --target ops -t motcua-ops .     one-shot jobs: Kafka's TLS files, topics and ACLs (infra/deploy.py)
# Each holds the virtualenv of requirements.txt (runtime packages only: no test, lint or benchmark
# tool, no pip) and the code it runs, and runs as user 10001. The health check asks /healthz, the
# process answering: a database or a broker that is away does not make a container unhealthy.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- the virtualenv, built once
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
# A venv without pip of its own: the image's pip installs into it and stays behind in this stage.
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --only-binary=:all: -r /tmp/requirements.txt

# ---------------------------------------------------------------- htmx (console) and Swagger UI (/docs), from the npm registry
FROM node:20-bookworm-slim AS htmx
# The same version scripts/install.sh vendors for development.
ARG HTMX_VERSION=2.0.11
RUN npm install --no-save --no-audit --no-fund --no-package-lock --prefix /vendor "htmx.org@${HTMX_VERSION}"
# Swagger UI for every service's /docs (the same version scripts/install.sh vendors).
ARG SWAGGER_UI_VERSION=5.35.0
RUN npm install --no-save --no-audit --no-fund --no-package-lock --prefix /swagger "swagger-ui-dist@${SWAGGER_UI_VERSION}" \
    && rm -f /swagger/node_modules/swagger-ui-dist/*.map

# ---------------------------------------------------------------- what every image shares
FROM ${PYTHON_IMAGE} AS base
RUN groupadd --system --gid 10001 motcua \
    && useradd --system --uid 10001 --gid motcua --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin motcua \
    && install -d -o motcua -g motcua /var/lib/motcua
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HTTP_HOST=0.0.0.0 HTTP_PORT=8000
WORKDIR /app

# ---------------------------------------------------------------- the web console
FROM base AS web
# WeasyPrint (the forms as PDF) needs Pango, and a font with Vietnamese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY services/ services/
COPY --from=htmx /swagger/node_modules/swagger-ui-dist services/.vendor/node_modules/swagger-ui-dist
COPY web-service/ web-service/
COPY --from=htmx /vendor/node_modules/htmx.org/dist web-service/.vendor/node_modules/htmx.org/dist
RUN python -m compileall -q services web-service/web
ENV PYTHONPATH=/app:/app/web-service
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "web", "serve"]

# ---------------------------------------------------------------- one-shot jobs of docker-compose.yml
FROM base AS ops
COPY services/ services/
COPY infra/__init__.py infra/pki.py infra/deploy.py infra/
RUN python -m compileall -q services infra
ENV PYTHONPATH=/app
USER 10001:10001
CMD ["python", "-m", "infra.deploy", "--help"]

# ---------------------------------------------------------------- one of the four services (the default target)
FROM base AS service
ARG SERVICE
RUN case "${SERVICE}" in intake|routing|deadline|notify) ;; \
      *) echo "build with --build-arg SERVICE=intake|routing|deadline|notify (got '${SERVICE}')" >&2; exit 1 ;; esac
COPY services/ services/
COPY --from=htmx /swagger/node_modules/swagger-ui-dist services/.vendor/node_modules/swagger-ui-dist
COPY ${SERVICE}-service/ ${SERVICE}-service/
RUN python -m compileall -q services ${SERVICE}-service
ENV PYTHONPATH=/app:/app/${SERVICE}-service MOTCUA_SERVICE=${SERVICE}
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# `exec`: the service is PID 1 and gets the stop signal itself.
CMD ["sh", "-c", "exec python -m \"$MOTCUA_SERVICE\" serve"]
