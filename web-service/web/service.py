"""The console's app: its routes, the session cookie sealed again on every answer, and the pages
shown for every error (sign in, session over, not found, not allowed, a service away), never a
stack trace."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services import tracing
from web.adapters.backend import ApiError, ServiceUnavailable
from web.adapters.sessions import COOKIE, Session, SessionExpired
from web.entrypoints import agency, auth, citizen, counter, home, personal_data, reports
from web.entrypoints.pages import NotAllowed, SignInNeeded, render
from web.settings import WebSettings
from web.wiring import Wiring

log = logging.getLogger("web")
STATIC = Path(__file__).resolve().parent / "adapters" / "static"
VENDOR = Path(__file__).resolve().parent.parent / ".vendor" / "node_modules" / "htmx.org" / "dist"

# Each area of the console adds its router here.
ROUTERS = [home.router, auth.router, counter.router, agency.router, citizen.router, reports.router, personal_data.router]


def _same_origin(request: Request, public_url: str) -> bool:
    """A form post must come from the console's own pages (the cookie is SameSite=Lax as well)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    allowed = urlsplit(public_url)
    given = urlsplit(origin)
    return (given.scheme, given.netloc) == (allowed.scheme, allowed.netloc) or given.netloc == request.headers.get("host")


def build_app(settings: WebSettings, routers: list | None = None) -> FastAPI:
    wiring = Wiring.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await wiring.close()

    app = FastAPI(
        title="MotCua — console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=tracing.http_telemetry(),
    )
    app.state.wiring = wiring
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if VENDOR.is_dir():
        app.mount("/vendor", StaticFiles(directory=VENDOR), name="vendor")
    for router in routers or ROUTERS:
        app.include_router(router)

    @app.middleware("http")
    async def sessions(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        if request.method == "POST" and not _same_origin(request, settings.public_url):
            return render(
                request,
                "error.html",
                {"title": "Yêu cầu bị từ chối", "message": "Biểu mẫu này được gửi từ một trang khác, nên đã bị từ chối."},
                403,
            )
        response = await call_next(request)
        if getattr(request.state, "clear_session", False):
            response.delete_cookie(COOKIE, path="/")
        else:
            session: Session | None = getattr(request.state, "session", None)
            if session is not None:
                response.set_cookie(
                    COOKIE,
                    wiring.seal.seal_session(session),
                    httponly=True,
                    samesite="lax",
                    secure=settings.secure_cookies,
                    path="/",
                )
        response.headers.setdefault("X-Request-Id", request.state.request_id)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        target = f"/dang-nhap?next={quote(exc.next_path, safe='')}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(SessionExpired)
    async def _expired(request: Request, exc: SessionExpired) -> Response:
        request.state.clear_session = True
        request.state.session = None
        here = request.url.path if request.method == "GET" else "/"
        response = render(
            request,
            "error.html",
            {
                "title": "Phiên làm việc đã hết hạn",
                "message": "Bạn chưa thao tác trong một thời gian nên phiên làm việc đã kết thúc. Hãy đăng nhập lại để tiếp tục.",
                "sign_in": True,
                "next": here,
            },
            401,
        )
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return render(
            request, "error.html", {"title": "Không có quyền", "message": "Tài khoản của bạn không có quyền dùng trang này."}, 403
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 404:
            return render(
                request,
                "error.html",
                {
                    "title": "Không tìm thấy",
                    "message": "Không tìm thấy hồ sơ này, hoặc hồ sơ không thuộc đơn vị hay cơ quan của bạn.",
                },
                404,
            )
        if exc.status in (401, 403):
            return render(
                request,
                "error.html",
                {"title": "Không có quyền", "message": "Tài khoản của bạn không có quyền dùng trang này."},
                403,
            )
        log.warning("service answered %s: %s", exc.status, exc)
        return render(
            request,
            "error.html",
            {"title": "Đã xảy ra lỗi", "message": exc.detail or exc.title, "request_id": request.state.request_id},
            exc.status if exc.status < 500 else 502,
        )

    @app.exception_handler(ServiceUnavailable)
    async def _away(request: Request, exc: ServiceUnavailable) -> Response:
        log.warning("service %s unavailable", exc.service)
        return render(
            request,
            "error.html",
            {
                "title": "Hệ thống tạm thời không phản hồi",
                "message": "Một phần của hệ thống đang không trả lời. Không có thay đổi nào bị mất; hãy thử lại sau ít phút.",
            },
            503,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return render(
            request,
            "error.html",
            {
                "title": "Đã xảy ra lỗi",
                "message": "Yêu cầu chưa thực hiện được. Mã yêu cầu để báo bộ phận kỹ thuật:",
                "request_id": getattr(request.state, "request_id", ""),
            },
            500,
        )

    return app
