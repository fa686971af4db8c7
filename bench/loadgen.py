"""A lean HTTP/1.1 client for the load generator: kept-alive connections, requests encoded once.

The load generator shares the two cores with what it measures. httpx cost it about 2 ms of CPU a
request, so past a hundred or so a second it starved itself and the services, and its own queue
showed up as intake latency; this costs a small fraction of that."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class Unanswered(Exception):
    """No complete HTTP response: refused, reset, timed out or malformed."""


def post_request(host: str, path: str, body: dict[str, Any], token: str) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send one request; the status, the body, and whether the connection may be reused."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, keep = None, True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
        if length is None:
            raise Unanswered("a response without Content-Length")
        return status, await self.reader.readexactly(length) if length else b"", keep

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Up to `size` connections to one server; a request waits for an idle one."""

    def __init__(self, url: str, size: int, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = parts.netloc
        self.timeout = timeout
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(size)

    async def post(self, request: bytes) -> tuple[int, bytes]:
        async with self.slots:
            connection = None
            while self.idle and connection is None:
                connection = self.idle.pop()
                if connection.reader.at_eof():  # the server closed it while idle (keep-alive timeout)
                    connection.close()
                    connection = None
            try:
                if connection is None:
                    connection = Connection(*await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout))
                status, body, keep = await asyncio.wait_for(connection.exchange(request), self.timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, IndexError) as exc:
                if connection is not None:
                    connection.close()
                raise Unanswered(f"{type(exc).__name__}: {exc}") from exc
            if keep:
                self.idle.append(connection)
            else:
                connection.close()
            return status, body

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()
