"""The FastAPI app factory every service uses: health, readiness, metrics, request ids,
problem+json errors, and the operator's dead-letter endpoints."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.messaging.dead_letters import DeadLetter, ReplayError, list_dead_letters, replay_dead_letter
from services.overload import LoadShedder
from services.problems import Problem, install_problem_handlers
from services.request_context import RequestContext

if TYPE_CHECKING:
    from services.runtime import Runtime


async def get_runtime(request: Request) -> "Runtime":
    return request.app.state.runtime


RuntimeDep = Annotated["Runtime", Depends(get_runtime)]

_bearer = HTTPBearer(auto_error=False)


async def require_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Operator endpoints take `Authorization: Bearer $ADMIN_TOKEN` when ADMIN_TOKEN is set."""
    expected = request.app.state.runtime.settings.admin_token
    if expected is None:
        return
    if credentials is None or not secrets.compare_digest(credentials.credentials, expected):
        raise Problem(401, "Unauthorized", "operator token required", type="unauthorized")


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the database and the Kafka broker answer")
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    admin = APIRouter(prefix="/admin", tags=["operations"], dependencies=[Depends(require_operator)])

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
    return router


def create_app(
    runtime: "Runtime",
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

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.runtime = runtime
    install_problem_handlers(app)

    app.include_router(operations_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(LoadShedder, max_in_flight=runtime.settings.max_in_flight)
    app.add_middleware(RequestContext)  # outermost: shed requests get an id too
    return app
