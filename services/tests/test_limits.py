"""The kernel's guards on what a request may carry: body size, media type, unstorable values. (Who may
call is proved with real tokens in test_identity.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from services.limits import BodySizeLimit
from services.problems import install_problem_handlers
from services.web import require_declared_content_type


class Note(BaseModel):
    text: str


def make_app(max_bytes: int = 1000) -> FastAPI:
    app = FastAPI(dependencies=[Depends(require_declared_content_type)])
    install_problem_handlers(app)

    @app.post("/notes")
    async def add(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.post("/fail")
    async def fail() -> None:
        class Orig(Exception):
            sqlstate = "22021"  # character_not_in_repertoire: a NUL byte in text

        raise DBAPIError("INSERT ...", {}, Orig())

    @app.post("/fail-on-the-driver/{kind}")
    async def fail_on_the_driver(kind: str) -> None:
        if kind == "nul":
            raise asyncpg.exceptions.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')
        if kind == "lost":
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        raise asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist')

    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


STAFF: dict[str, str] = {}


async def test_a_body_over_the_limit_is_413_whether_declared_or_chunked() -> None:
    async with client(make_app()) as c:
        assert (await c.post("/notes", json={"text": "x" * 900}, headers=STAFF)).status_code == 200
        declared = await c.post("/notes", json={"text": "x" * 1000}, headers=STAFF)
        assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["max_bytes"] == 1000

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            for _ in range(20):
                yield b"x" * 100
            yield b'"}'

        chunked = await c.post("/notes", content=chunks(), headers={**STAFF, "Content-Type": "application/json"})
        assert chunked.status_code == 413 and chunked.json()["status"] == 413


async def test_the_limit_is_configurable_and_zero_turns_it_off() -> None:
    async with client(make_app(max_bytes=0)) as c:
        assert (await c.post("/notes", json={"text": "x" * 100_000}, headers=STAFF)).status_code == 200


async def test_json_sent_as_another_media_type_is_415() -> None:
    async with client(make_app()) as c:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            response = await c.post("/notes", content=b'{"text": "a"}', headers={**STAFF, "Content-Type": content_type})
            assert response.status_code == 415 and response.headers["accept-post"] == "application/json", content_type
        assert (
            await c.post("/notes", content=b'{"text": "a"}', headers={**STAFF, "Content-Type": "application/merge-patch+json"})
        ).status_code == 200


async def test_a_value_postgresql_cannot_store_is_422_not_500() -> None:
    async with client(make_app()) as c:
        response = await c.post("/fail")
        assert response.status_code == 422 and response.json()["type"].endswith("/unstorable-value")


async def test_errors_raised_by_the_driver_itself_are_problems_too() -> None:
    async with client(make_app()) as c:
        unstorable = await c.post("/fail-on-the-driver/nul")
        lost = await c.post("/fail-on-the-driver/lost")
        ours = await c.post("/fail-on-the-driver/bug")
    assert unstorable.status_code == 422 and unstorable.json()["type"].endswith("/unstorable-value")
    assert lost.status_code == 503 and lost.headers["retry-after"] and lost.headers["content-type"] == "application/problem+json"
    assert ours.status_code == 500 and "nope" not in ours.text
