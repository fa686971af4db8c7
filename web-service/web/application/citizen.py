"""The citizen's use cases, public (no sign-in): look a dossier up by its code and the secret on
the receipt (intake `POST /lookup`) and rate the satisfaction once the result is returned (intake
`POST /lookup/rating`). The citizen's address goes along as X-Forwarded-For, so intake's limit
counts each citizen rather than the console (intake trusts it from the console's address,
INTAKE_TRUSTED_PROXIES). The secret is sent in the body only, and never logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from web.adapters.backend import ApiError, Backend

Problem = Literal["", "not_found", "throttled", "already_rated", "invalid"]

# What the citizen is told: which of the code and the secret is wrong is not said (intake does not say either).
PROBLEMS: dict[str, str] = {
    "not_found": "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này. Hãy kiểm tra lại cả hai mã trên giấy tiếp nhận.",
    "throttled": "Bạn đã tra cứu quá nhiều lần trong thời gian ngắn. Hãy thử lại sau ít phút.",
    "already_rated": "Hồ sơ này đã được đánh giá. Mỗi hồ sơ chỉ được đánh giá một lần.",
}


@dataclass
class Outcome:
    result: dict[str, Any] | None = None
    problem: Problem = ""
    errors: dict[str, str] = field(default_factory=dict)


def _forwarded(client: str | None) -> dict[str, str]:
    return {"X-Forwarded-For": client} if client else {}


def _problem(exc: ApiError) -> Problem:
    if exc.status == 404:
        return "not_found"
    if exc.status == 429:
        return "throttled"
    if exc.status == 409:
        return "already_rated"
    if exc.status == 422:
        return "invalid"
    raise exc


async def look_up(backend: Backend, code: str, secret: str, client: str | None = None) -> Outcome:
    try:
        result = await backend.post("intake", "/lookup", None, {"code": code, "secret": secret}, headers=_forwarded(client))
    except ApiError as exc:
        problem = _problem(exc)
        return Outcome(problem="not_found" if problem == "invalid" else problem)
    return Outcome(result=result)


async def rate(backend: Backend, code: str, secret: str, score: int, comment: str | None, client: str | None = None) -> Outcome:
    """The rating recorded (201), or why not: wrong code or secret, too many tries, rated already
    (or the result not returned yet: intake answers 409 for both), a field the API refused."""
    body = {"code": code, "secret": secret, "score": score, "comment": comment or None}
    try:
        result = await backend.post("intake", "/lookup/rating", None, body, headers=_forwarded(client))
    except ApiError as exc:
        problem = _problem(exc)
        errors = {e.get("field", ""): e.get("message", "") for e in exc.errors} if problem == "invalid" else {}
        return Outcome(problem=problem, errors=errors)
    return Outcome(result=result)
