"""The FastAPI app factory every service uses: health, readiness, metrics, request ids,
problem+json errors, and the operator's dead-letter endpoints. Who may call what is in
`services.identity`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services import tracing
from services.audit import AuditEntry, audit_entries
from services.identity import OperatorOnly, Role, allow
from services.limits import BodySizeLimit
from services.messaging.dead_letters import DeadLetter, ReplayError, list_dead_letters, replay_dead_letter
from services.overload import LoadShedder
from services.personal_data.requests import HeldPart, read_parts
from services.problems import PROBLEM_JSON, TYPE_BASE, Problem, install_problem_handlers
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

    @trail.get(
        "/personal-data/requests/{request_id}/held",
        summary="What this service held about a citizen's dossiers when a request reached it (export), or erased",
        description="One entry per dossier of the request this service has done; an export's records by data class. "
        "Every read is written in the audit trail.",
        response_model=list[HeldPart],
    )
    async def personal_data_held(
        runtime: RuntimeDep, request_id: Annotated[str, PathParam(max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
    ) -> list[HeldPart]:
        async with runtime.sessionmaker() as session, session.begin():
            parts = await read_parts(session, schema=runtime.tables.schema, keys=runtime.keys, request_id=request_id)
            await runtime.audit(session).read(
                "personal_data_export", [p.dossier_id for p in parts if p.kind == "export"], request_id=request_id
            )
        return parts

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


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# The answers any operation may give besides its own, as problem+json, with an example each.
ANSWERS: dict[str, tuple[str, str, str]] = {
    "401": ("Unauthorized", "an access token from the identity provider is required (Authorization: Bearer ...)", "unauthorized"),
    "403": ("Forbidden", "this action needs one of the roles: officer", "forbidden"),
    "404": ("Not found", "no such record", "not-found"),
    "409": ("Conflict", "not possible in the dossier's current status", "conflict"),
    "413": ("Request body too large", "send at most 1048576 bytes", "body-too-large"),
    "415": ("Unsupported media type", "send the body as application/json, not text/plain", "unsupported-media-type"),
    "422": ("Invalid request", "1 field is invalid", "validation"),
    "503": ("Service unavailable", "The database is busy or unreachable; nothing was changed. Retry shortly.", "unavailable"),
}
DESCRIPTIONS = {
    "401": "No valid access token",
    "403": "The token lacks the role or scope this operation needs",
    "404": "No record with that id",
    "409": "Not allowed in the record's current state (the answer says which), or a replayed request",
    "413": "The request body is larger than the service accepts",
    "415": "The body is not in the media type this operation declares",
    "422": "Invalid request (problem+json naming each field)",
    "503": "Overloaded, or the database busy or unreachable: nothing was changed; retry after Retry-After",
}
WRITES = {"post", "put", "patch", "delete"}


def problem_answer(status: str) -> dict[str, object]:
    title, detail, kind = ANSWERS[status]
    example: dict[str, object] = {"type": TYPE_BASE + kind, "title": title, "status": int(status), "detail": detail}
    if status == "422":
        example["errors"] = [{"field": "body.applicant.email", "message": "value is not a valid email address"}]
    return {"description": DESCRIPTIONS[status], "content": {PROBLEM_JSON: {"schema": PROBLEM_REF, "example": example}}}


def security_scheme(issuer: str) -> dict[str, object]:
    """Keycloak as an OAuth2 provider: officers sign in (authorization code), services use client credentials."""
    base = issuer.rstrip("/") + "/protocol/openid-connect"
    return {
        "type": "oauth2",
        "description": "Access tokens from the province's Keycloak realm; roles are read from the token.",
        "flows": {
            "authorizationCode": {"authorizationUrl": f"{base}/auth", "tokenUrl": f"{base}/token", "scopes": {}},
            "clientCredentials": {"tokenUrl": f"{base}/token", "scopes": {}},
        },
    }


def enrich_openapi(schema: dict[str, Any], issuer: str) -> dict[str, Any]:
    """Declare what each operation really answers: 401/403 and the Keycloak scheme where a token is
    needed, 404 for paths with ids, 409 for changes, 413/415 where there is a body, 503 everywhere,
    and 422 as problem+json rather than FastAPI's default shape."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    schemes = components.setdefault("securitySchemes", {})
    schemes.pop("HTTPBearer", None)
    schemes["keycloak"] = security_scheme(issuer)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            answers = ["503"]
            # FastAPI marks the operations whose dependencies read the bearer token (`authenticated`).
            if any("HTTPBearer" in requirement for requirement in operation.get("security", ())):
                answers += ["401", "403"]
                operation["security"] = [{"keycloak": []}]
            else:
                operation.pop("security", None)
            if "{" in path:
                answers.append("404")
            if method in WRITES:
                answers.append("409")
            if "requestBody" in operation:
                answers += ["413", "415", "422"]
            if "422" in responses:
                answers.append("422")
            for status in answers:
                declared = responses.get(status, {})
                answer = problem_answer(status)
                if status != "422" and declared.get("description"):
                    answer["description"] = declared["description"]  # the route's own words
                if status == "422" or not declared.get("content"):
                    responses[status] = answer
            for status, declared in responses.items():
                if status in ANSWERS and not declared.get("content"):  # declared by the route with words only
                    responses[status] = {
                        **problem_answer(status),
                        "description": declared.get("description", DESCRIPTIONS[status]),
                    }
    return schema


def _problem_openapi(app: FastAPI, issuer: str) -> Callable[[], dict[str, object]]:
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = enrich_openapi(build(), issuer)
        return app.openapi_schema

    return openapi


# Swagger UI's files, vendored from the npm registry by scripts/install.sh (and the Dockerfile): a
# provincial data centre may not reach a CDN, and the console must not depend on one.
SWAGGER_UI = Path(__file__).resolve().parent / ".vendor" / "node_modules" / "swagger-ui-dist"
SWAGGER_ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """`/docs`: Swagger UI served from the installed files, signing in through Keycloak (PKCE)."""
    if not (SWAGGER_UI / "swagger-ui-bundle.js").is_file():
        log.warning("Swagger UI is not installed (%s): run scripts/install.sh; /docs will lack its assets", SWAGGER_UI)
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            init_oauth={"usePkceWithAuthorizationCodeGrant": True},  # the client id is typed in the dialog
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


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
        docs_url=None,  # served by install_docs, from local files
        redoc_url=None,  # ReDoc would come from a CDN
        dependencies=[Depends(require_declared_content_type)],
        telemetry=tracing.http_telemetry(),
    )
    app.state.runtime = runtime
    app.openapi = _problem_openapi(app, runtime.settings.oidc_issuer)  # type: ignore[method-assign]
    install_problem_handlers(app)
    install_docs(app)

    app.include_router(operations_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(LoadShedder, max_in_flight=runtime.settings.max_in_flight)
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(RequestContext)  # outermost: shed and oversized requests get an id too
    return app
