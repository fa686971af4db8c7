"""The benchmark's HTTP client against a real server on loopback: it reads each answer whole,
reuses a kept-alive connection, and does not lose a request to one the server closed while idle."""

from __future__ import annotations

import asyncio
import json

from bench.loadgen import Pool, post_request


async def test_answers_are_read_whole_and_a_connection_closed_while_idle_is_not_reused() -> None:
    connections = 0
    seen: list[dict[str, object]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                )
                seen.append(json.loads(await reader.readexactly(length)))
                body = json.dumps({"id": f"d{len(seen)}", "tên": "Lan"}, ensure_ascii=False).encode()
                writer.write(
                    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body
                )
                await writer.drain()
                if len(seen) == 2:  # a keep-alive timeout: the server closes the connection after the second answer
                    break
        except (asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}", size=4)
    request = post_request(f"127.0.0.1:{port}", "/dossiers", {"procedure_code": "1.001193"}, "a-token")
    try:
        answers = [await pool.post(request) for _ in range(2)]
        await asyncio.sleep(0.2)  # the close reaches the idle connection
        answers.append(await pool.post(request))
    finally:
        pool.close()
        server.close()
    assert [status for status, _ in answers] == [201, 201, 201]
    assert [json.loads(body)["id"] for _, body in answers] == ["d1", "d2", "d3"]
    assert seen == [{"procedure_code": "1.001193"}] * 3
    assert connections == 2, "the first connection served two requests; the third went on a new one"
