"""Signing in through Keycloak's login page, signing out, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.adapters.oidc import SignInRefused
from web.adapters.sessions import COOKIE, SIGN_IN_COOKIE, SIGN_IN_SECONDS, SessionExpired
from web.application.signin import begin_sign_in, safe_next
from web.domain.i18n import language_of
from web.domain.officers import landing_for
from web.entrypoints.pages import render, wiring

router = APIRouter()


def _callback(request: Request) -> str:
    return f"{wiring(request).settings.public_url}/dang-nhap/xong"


@router.get("/dang-nhap", include_in_schema=False)
async def sign_in(request: Request, next: str | None = None) -> Response:
    w = wiring(request)
    url, pending = await begin_sign_in(w.officers.oidc, _callback(request), next, language_of(request.cookies.get("lang")))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        SIGN_IN_COOKIE,
        w.seal.seal_sign_in(pending),
        max_age=SIGN_IN_SECONDS,
        httponly=True,
        samesite="lax",  # it must come back with Keycloak's redirect, a top-level navigation from another site
        secure=w.settings.secure_cookies,
        path="/dang-nhap",
    )
    return response


@router.get("/dang-nhap/xong", include_in_schema=False)
async def signed_in_at_keycloak(
    request: Request, code: str | None = None, state: str | None = None, error: str | None = None
) -> Response:
    w = wiring(request)
    pending_cookie = request.cookies.get(SIGN_IN_COOKIE)
    pending = w.seal.open_sign_in(pending_cookie) if pending_cookie else None
    try:
        if error or not code or not state:
            raise SignInRefused(error or "no code")
        session = await w.officers.finish_sign_in(pending, code, state, _callback(request))
    except SignInRefused:
        return render(
            request,
            "error.html",
            {
                "title": "Đăng nhập không thành công",
                "message": "Không hoàn tất được việc đăng nhập. Hãy thử đăng nhập lại.",
                "sign_in": True,
            },
            400,
        )
    officer, _ = await w.officers.signed_in(session)
    target = pending.next if pending and pending.next != "/" else landing_for(officer.principal)
    response = RedirectResponse(safe_next(target), status_code=303)
    response.delete_cookie(SIGN_IN_COOKIE, path="/dang-nhap")
    request.state.session = session
    return response


@router.post("/dang-xuat", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    w = wiring(request)
    value = request.cookies.get(COOKIE)
    if value:
        try:
            await w.officers.sign_out(w.seal.open_session(value))
        except SessionExpired:
            pass
    response = RedirectResponse("/", status_code=303)
    request.state.clear_session = True
    return response


@router.post("/ngon-ngu", include_in_schema=False)
async def switch_language(request: Request, lang: str = Form(...), back: str = Form("/")) -> Response:
    response = RedirectResponse(safe_next(back), status_code=303)
    response.set_cookie(
        "lang", language_of(lang), max_age=365 * 86400, samesite="lax", secure=wiring(request).settings.secure_cookies
    )
    return response
