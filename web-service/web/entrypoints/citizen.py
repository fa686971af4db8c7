"""The citizen's page, public (no sign-in): /tra-cuu looks a dossier up by its code (`ma`) and the
secret on the receipt (`ms`). The receipt's QR code and the SMS link open it with the code (and the
secret) in the address, and with both the result shows at once; typed in, the form posts them.
Once the result is returned, the satisfaction rating. Never cached: the answers are the citizen's."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.application import citizen
from web.application.citizen import PROBLEMS, Outcome
from web.domain.citizen import (
    SCORES,
    appointment_paused,
    appointment_shown,
    missing_items,
    rating_open,
    score_of,
    status_sentence,
)
from web.entrypoints.pages import Api, render

router = APIRouter()

STATUS_OF = {"not_found": 404, "throttled": 429}


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(
    request: Request,
    code: str,
    secret: str,
    outcome: Outcome | None = None,
    *,
    errors: dict[str, str] | None = None,
    rating: Outcome | None = None,
    values: dict[str, str] | None = None,
    back: str | None = None,
) -> Response:
    result = outcome.result if outcome else None
    problem = (outcome.problem if outcome else "") or (rating.problem if rating and rating.problem != "invalid" else "")
    context = {
        "code": code,
        "secret": secret,
        "result": result,
        "sentence": status_sentence(result["status"]) if result else None,
        "appointment_shown": bool(result) and appointment_shown(result["status"]),
        "appointment_paused": bool(result) and appointment_paused(result["status"]),
        "missing": missing_items(result) if result else [],
        "rating_open": bool(result) and rating_open(result),
        "rated": bool(result) and bool(result.get("rated")),
        "thanks": bool(rating and rating.result),
        "problem": PROBLEMS.get(problem, ""),
        "errors": errors or {},
        "values": values or {},
        "scores": SCORES,
    }
    if back:  # the language switch brings the citizen back to the same result
        context["path"] = back
    status = STATUS_OF.get(outcome.problem, 200) if outcome and not result else 200
    response = render(request, "citizen/lookup.html", context, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _required(code: str, secret: str) -> dict[str, str]:
    errors = {}
    if not code:
        errors["ma"] = "Hãy nhập mã hồ sơ."
    if not secret:
        errors["ms"] = "Hãy nhập mã tra cứu."
    return errors


@router.get("/tra-cuu", include_in_schema=False)
async def lookup_page(request: Request, api: Api, ma: str = "", ms: str = "") -> Response:
    code, secret = ma.strip(), ms.strip()
    if not (code and secret):
        return _page(request, code, secret)
    outcome = await citizen.look_up(api, code, secret, _client(request))
    return _page(request, code, secret, outcome, back="/tra-cuu?" + urlencode({"ma": code, "ms": secret}))


@router.post("/tra-cuu", include_in_schema=False)
async def lookup_form(request: Request, api: Api) -> Response:
    form = await request.form()
    code, secret = str(form.get("ma", "")).strip(), str(form.get("ms", "")).strip()
    if errors := _required(code, secret):
        return _page(request, code, secret, errors=errors)
    return _page(request, code, secret, await citizen.look_up(api, code, secret, _client(request)))


@router.post("/tra-cuu/danh-gia", include_in_schema=False)
async def rate(request: Request, api: Api) -> Response:
    form = await request.form()
    code, secret = str(form.get("ma", "")).strip(), str(form.get("ms", "")).strip()
    comment = str(form.get("comment", "")).strip()
    score = score_of(str(form.get("score", "")))
    if errors := _required(code, secret):
        return _page(request, code, secret, errors=errors)
    rating: Outcome | None = None
    errors = {}
    if score is None:
        errors["score"] = "Hãy chọn một mức đánh giá."
    else:
        rating = await citizen.rate(api, code, secret, score, comment, _client(request))
        if rating.problem == "invalid":
            errors = {"comment" if "comment" in k else "score": "Nội dung đánh giá chưa hợp lệ." for k in rating.errors}
    if rating and rating.problem in ("not_found", "throttled"):
        return _page(request, code, secret, Outcome(problem=rating.problem))
    outcome = await citizen.look_up(api, code, secret, _client(request))
    return _page(request, code, secret, outcome, errors=errors, rating=rating, values={"comment": comment} if errors else {})
