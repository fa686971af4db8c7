"""The FastAPI app factory every service uses: health, readiness, metrics, request ids,
problem+json errors, and the operator's dead-letter endpoints. Who may call what is in
`services.identity`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services import tracing
from services.audit import AuditEntry, audit_entries
from services.identity import OperatorOnly, Role, allow
from services.limits import BodySizeLimit
from services.messaging.dead_letters import DeadLetter, ReplayError, list_dead_letters, replay_dead_letter
from services.overload import LoadShedder
from services.problems import PROBLEM_JSON, Problem, install_problem_handlers
from services.request_context import RequestContext

if TYPE_CHECKING:
    from services.runtime import Runtime

log = logging.getLogger(__name__)


async def get_runtime(request: Request) -> Runtime[Any, Any]:
    return request.app.state.runtime


RuntimeDep = Annotated["Runtime[Any, Any]", Depends(get_runtime)]


def wired(attribute: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency giving one attribute of the service's wiring (what its routes are given), as
    each service's `deps.py` names it: `Annotated[IntakeUnitOfWork, Depends(wired("uow"))]`. It is
    `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop a request."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state.runtime.wiring, attribute)

    dependency.__name__ = f"wired_{attribute}"
    return dependency


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes any text a header may carry (str comparison refuses non-ASCII)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


JSON_TYPES = ("application/json",)


async def require_declared_content_type(request: Request) -> None:
    """A body must come as the media type its endpoint declares (JSON unless it takes a form): JSON sent
    as text/plain, XML or a form is 415, not parsed on a guess. A plain-text POST is what a browser sends
    across origins without asking first, so this also keeps other sites from posting to staff endpoints."""
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    if request.headers.get("content-length") in (None, "0") and "transfer-encoding" not in request.headers:
        return
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    declared = getattr(getattr(body_field, "field_info", None), "media_type", None)
    extra = (getattr(route, "openapi_extra", None) or {}).get("requestBody", {}).get("content", {})
    accepted = tuple(extra) or ((declared,) if declared and declared not in JSON_TYPES else JSON_TYPES)
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given in accepted or (accepted == JSON_TYPES and given.startswith("application/") and given.endswith("+json")):
        return
    raise Problem(
        415,
        "Unsupported media type",
        f"send the body as {' or '.join(accepted)}, not {given or 'without a Content-Type'}",
        type="unsupported-media-type",
        headers={"Accept-Post": ", ".join(accepted)},
    )


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the database answers (the Kafka broker's state is reported)")
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        # Only the database decides: without the broker the service still accepts work into its
        # outbox, which the relay publishes once the broker is back.
        checks = await runtime.readiness()
        ok = checks.get("database") == "ok"
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(runtime: RuntimeDep) -> Response:
        await runtime.refresh_backlog_metrics()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    admin = APIRouter(prefix="/admin", tags=["operations"], dependencies=OperatorOnly)

    @admin.get("/dead-letters", summary="Messages a consumer gave up on", response_model=list[DeadLetter])
    async def dead_letters(runtime: RuntimeDep, include_replayed: bool = False) -> list[DeadLetter]:
        return await list_dead_letters(runtime.sessionmaker, runtime.tables, pending_only=not include_replayed)

    @admin.post("/dead-letters/{dead_letter_id}/replay", summary="Apply a dead letter again")
    async def replay(dead_letter_id: int, runtime: RuntimeDep) -> dict[str, object]:
        try:
            return await replay_dead_letter(runtime.sessionmaker, runtime.tables, runtime.consumers, dead_letter_id)
        except ReplayError as exc:
            raise Problem(exc.status, "Replay refused", exc.detail, type="replay") from exc

    router.include_router(admin)

    trail = APIRouter(tags=["operations"], dependencies=[Depends(allow(Role.OPERATOR, Role.PROVINCE_ADMIN))])

    @trail.get(
        "/audit-trail",
        summary="This service's append-only audit: its state changes and reads of personal data, with the actor",
        response_model=list[AuditEntry],
    )
    async def audit_trail(
        runtime: RuntimeDep,
        dossier_id: Annotated[str | None, Query(max_length=200)] = None,
        after_id: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AuditEntry]:
        async with runtime.sessionmaker() as session:
            return await audit_entries(session, runtime.tables.schema, dossier_id=dossier_id, after_id=after_id, limit=limit)

    router.include_router(trail)
    return router


PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each invalid field.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "string"}},
            },
        },
    },
}


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, object]]:
    """Declare what the app really answers on bad input: 422 as problem+json, not FastAPI's default shape."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "Invalid request (problem+json naming each field)",
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    }
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


def create_app(
    runtime: Runtime[Any, Any],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    version: str = "1.0.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        dependencies=[Depends(require_declared_content_type)],
        telemetry=tracing.http_telemetry(),
    )
    app.state.runtime = runtime
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
    install_problem_handlers(app)

    app.include_router(operations_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(LoadShedder, max_in_flight=runtime.settings.max_in_flight)
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(RequestContext)  # outermost: shed and oversized requests get an id too
    return app
