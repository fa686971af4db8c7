"""RFC 9457 problem details: every error a client sees, as application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.db import is_lock_conflict, sqlstate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://motcua.example/problems/"


class Problem(Exception):
    """Raise from a route to answer with a problem document; extra keyword arguments become members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.headers = headers
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.extensions = extensions


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + type if type else "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_name(loc: tuple[Any, ...]) -> str:
    """`("body", "applicant", "phone")` → `applicant.phone`; query/path/header keep their place."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    """One invalid field of a 422 problem: where, what is wrong, and a code a program can test."""
    return {"field": field, "message": message, "code": code}


def invalid(errors: Iterable[Mapping[str, str]]) -> Problem:
    """The 422 problem every service answers for bad input: each invalid field named, nothing changed."""
    listed = [dict(e) for e in errors]
    return Problem(
        422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in listed), type="validation", errors=listed
    )


def invalid_body(exc: ValidationError | RequestValidationError) -> Problem:
    """A body that failed its schema (read by hand, e.g. after checking a signature over its bytes)."""
    return invalid(
        field_error(field_name(tuple(e.get("loc", ()))), e.get("msg", "invalid"), e.get("type", "invalid")) for e in exc.errors()
    )


def not_found(detail: str) -> Problem:
    return Problem(404, "Not found", detail, type="not-found")


def _data_exception(exc: Exception) -> bool:
    code = sqlstate(exc)  # SQLAlchemy's wrapper, or the driver's own error (driver_connection)
    return isinstance(exc, DataError) or (code is not None and code.startswith("22"))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, type=exc.type, instance=request.url.path, headers=exc.headers, **exc.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _problem(request, invalid_body(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(exc.status_code, title, detail, instance=request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(SATimeoutError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(asyncpg.exceptions.OperatorInterventionError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            503,
            "Service unavailable",
            "The database is busy or unreachable; nothing was changed. Retry shortly.",
            type="unavailable",
            instance=request.url.path,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(UnicodeError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        if is_lock_conflict(exc):  # another transaction held what this one needed; it rolled back
            log.info("lock conflict on %s %s: %s", request.method, request.url.path, sqlstate(exc))
            return problem_response(
                503,
                "Service busy",
                "Another change to the same records was under way; nothing was changed. Retry shortly.",
                type="busy",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        # A value PostgreSQL cannot hold (a NUL byte, an unpaired surrogate, a number out of range:
        # SQLSTATE class 22, data exception) is the client's mistake, not the server's; the
        # transaction rolled back, nothing changed. Any other database error is ours.
        if isinstance(exc, (DBAPIError, asyncpg.PostgresError)) and not _data_exception(exc):
            log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
            return problem_response(500, "Internal error", "The request failed; nothing was changed.", instance=request.url.path)
        log.info("unstorable value on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            422,
            "Invalid request",
            "a value cannot be stored: text must be valid Unicode without NUL characters, numbers within range",
            type="unstorable-value",
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "Internal error", "The request failed; nothing was changed.", instance=request.url.path)
