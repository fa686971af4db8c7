"""`python -m web [serve]`: the console on HTTP_HOST:HTTP_PORT."""

from __future__ import annotations

import os
import sys

import uvicorn
from pydantic import ValidationError

from services import tracing
from services.logging import configure_logging
from web.service import build_app
from web.settings import WebSettings


def main(argv: list[str]) -> int:
    if argv and argv[0] not in ("serve",):
        print("usage: python -m web [serve]", file=sys.stderr)
        return 2
    try:
        settings = WebSettings()
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]) for e in exc.errors())
        print(f"web: cannot start, its settings are missing or wrong: {names}", file=sys.stderr)
        return 2
    configure_logging("web", settings.log_level)
    tracing_on = tracing.wanted(os.environ)
    if tracing_on:  # the officer's page request starts the trace; its calls to the services carry it on
        from services.tracing_export import configure_tracing, shutdown_tracing

        configure_tracing("web")
    app = build_app(settings)
    try:
        uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False, proxy_headers=False)
    finally:
        if tracing_on:
            shutdown_tracing()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
