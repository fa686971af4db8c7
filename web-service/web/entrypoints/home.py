"""The front page, and the console's own health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web.adapters.sessions import COOKIE
from web.domain.officers import landing_for
from web.entrypoints.pages import render, signed_in, wiring

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    if request.cookies.get(COOKIE):
        officer = await signed_in(request)
        return RedirectResponse(landing_for(officer.principal), status_code=303)
    return render(request, "home.html")


@router.get("/khong-co-quyen", include_in_schema=False)
async def no_section(request: Request) -> Response:
    await signed_in(request)
    return render(
        request, "error.html", {"title": "Không có quyền", "message": "Tài khoản của bạn không có quyền dùng trang này."}, 403
    )


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    w = wiring(request)
    checks = await w.backend.ready()
    try:
        await w.officers.oidc.metadata()
        checks["keycloak"] = "ok"
    except Exception as exc:
        checks["keycloak"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)
