"""Real HTTP servers on 127.0.0.1 playing the other side of an exchange in tests: the LGSP's token
endpoint, an agency's own system behind it, and the national portal (DVCQG)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class Loopback:
    LGSP_CLIENT = ("motcua-routing", "lgsp-client-secret")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down: set[str] = set()  # path prefixes answering 503
        self.wrong_request_id = False  # the agency's system answers with someone else's request id
        self.tokens_issued = 0
        self.deliveries: list[dict[str, Any]] = []  # what the agency's system accepted
        self.portal: dict[str, dict[str, Any]] = {}  # MaHoSo -> latest record
        self.portal_history: list[tuple[str, int]] = []  # (MaHoSo, TrangThaiHoSo) applied, in order
        self.portal_keys: set[str] = set()
        self.portal_repeats = 0
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def _is_down(self, path: str) -> bool:
                with loopback.lock:
                    return any(path.startswith(p) for p in loopback.down)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if self._is_down(url.path):
                    return self._answer(503, {"status": 0, "message": "unavailable"})
                if url.path == "/portal/TraCuuHoSo":
                    code = parse_qs(url.query).get("MaHoSo", [""])[0]
                    with loopback.lock:
                        record = loopback.portal.get(code)
                    return self._answer(200, record) if record else self._answer(404, {"status": 0})
                self._answer(404, {"status": 0})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = self._body()
                if self._is_down(url.path):
                    return self._answer(503, {"status": 0, "message": "unavailable"})
                if url.path == "/lgsp/token":
                    expected = "Basic " + base64.b64encode(":".join(Loopback.LGSP_CLIENT).encode()).decode()
                    if self.headers.get("Authorization") != expected or b"grant_type=client_credentials" not in body:
                        return self._answer(401, {"status": 0, "error_code": 100, "message": "AUTHEN_ERROR"})
                    with loopback.lock:
                        loopback.tokens_issued += 1
                        token = f"lgsp-token-{loopback.tokens_issued}"
                    return self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})
                if url.path == "/agency/ca-xa/steps":
                    if not (self.headers.get("Authorization") or "").startswith("Bearer lgsp-token-"):
                        return self._answer(401, {"status": 0, "error_code": 100})
                    payload = json.loads(body)
                    if self.headers.get("X-Request-ID") != payload.get("request_id"):
                        return self._answer(400, {"status": 0, "error_code": 500, "message": "DATA_INCORRECT"})
                    with loopback.lock:
                        loopback.deliveries.append(payload)
                        answer_id = "not-yours" if loopback.wrong_request_id else payload["request_id"]
                    return self._answer(200, {"request_id": answer_id, "status": 1})
                if url.path == "/portal/DongBoHoSoMC":
                    key = self.headers.get("Idempotency-Key") or ""
                    record = json.loads(body)["HoSo"]
                    with loopback.lock:
                        if key in loopback.portal_keys:
                            loopback.portal_repeats += 1
                        else:
                            loopback.portal_keys.add(key)
                            loopback.portal[record["MaHoSo"]] = record
                            loopback.portal_history.append((record["MaHoSo"], record["TrangThaiHoSo"]))
                    return self._answer(200, {"request_id": key, "status": 1})
                self._answer(404, {"status": 0})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Loopback:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def set_down(self, prefix: str, down: bool) -> None:
        with self.lock:
            (self.down.add if down else self.down.discard)(prefix)

    def delivered_for(self, dossier_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d in self.deliveries if d["dossier_id"] == dossier_id]

    def statuses_of(self, code: str) -> list[int]:
        with self.lock:
            return [s for c, s in self.portal_history if c == code]
