"""What every page's route uses: the templates, the signed-in officer as a dependency, and the
errors pages show instead of stack traces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.formatting import jinja_filters
from web.adapters.backend import Backend
from web.adapters.sessions import COOKIE, SessionExpired
from web.application.signin import SignedIn
from web.domain.i18n import language_of, translate
from web.domain.labels import channel_label, party_label, status_label
from web.domain.officers import sections_for
from web.wiring import Wiring

TEMPLATES = Path(__file__).resolve().parent.parent / "adapters" / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters.update(jinja_filters())
templates.env.filters["status"] = status_label
templates.env.filters["channel"] = channel_label
templates.env.filters["party"] = party_label


class SignInNeeded(Exception):
    """No session: the officer is sent to sign in, and brought back here afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowed(Exception):
    """Signed in, but the officer's roles do not cover this page."""


def wiring(request: Request) -> Wiring:
    return request.app.state.wiring


def language(request: Request) -> str:
    return language_of(request.cookies.get("lang"))


def backend(request: Request) -> Backend:
    return wiring(request).backend


async def signed_in(request: Request) -> SignedIn:
    """The officer this request is for; without a session, a redirect to sign in."""
    value = request.cookies.get(COOKIE)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not value:
        raise SignInNeeded(here)
    w = wiring(request)
    session = w.seal.open_session(value)  # SessionExpired when idle too long
    officer, renewed = await w.officers.signed_in(session)
    request.state.session = renewed  # sealed again on the way out (the idle clock restarts)
    request.state.officer = officer
    return officer


def officer_with(*roles: str) -> Any:
    """A dependency giving the signed-in officer if they hold one of `roles`, else a 'not allowed' page."""

    async def dependency(officer: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
        if roles and not officer.principal.has(*roles):
            raise NotAllowed()
        return officer

    return dependency


Officer = Annotated[SignedIn, Depends(signed_in)]
Language = Annotated[str, Depends(language)]
Api = Annotated[Backend, Depends(backend)]


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """A page, with what the layout needs: the language, the officer and their menu."""
    lang = language(request)
    officer: SignedIn | None = getattr(request.state, "officer", None)
    base = {
        "lang": lang,
        "_": lambda text: translate(text, lang),
        "officer": officer,
        "sections": sections_for(officer.principal) if officer else [],
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status_code)


__all__ = ["SessionExpired", "render", "signed_in", "officer_with", "Officer", "Language", "Api", "templates"]
