"""The life of a tracked dossier and of each of its due times, as states and the rules that read
them. Pure: no I/O.

A dossier is `running` from its receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả), `paused` while
the citizen is awaited (statuses 5, 6, 8: the clock stops), and ends `resolved` (classed early / on
time / late), `refused` (status 3) or `withdrawn` (status 7). Each due time, the whole dossier's and
each step's, is `open`, `paused` with the working time it had left, `closed` with its class, or
`cancelled` when tracking ends without a result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from services.calendar import WorkingCalendar
from services.vocabulary import PortalStatus

Scope = Literal["dossier", "step"]
COUNTER = "counter"  # who asked, when the supplement was asked for at the counter (not by an agency)


class DossierState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    RESOLVED = "resolved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


TRACKING = frozenset({DossierState.RUNNING, DossierState.PAUSED})  # tracking goes on
Ending = Literal[DossierState.REFUSED, DossierState.WITHDRAWN]  # tracking ends, nothing is classed


class DeadlineState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    CANCELLED = "cancelled"


LIVE = frozenset({DeadlineState.OPEN, DeadlineState.PAUSED})  # not closed nor cancelled yet


def awaits_agency_supplement(pause: Mapping[str, Any] | None) -> bool:
    """Whether the dossier waits for the citizen's answer to a supplement an agency asked for
    (Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ, status 5, not the counter's), given its open pause
    (with the dossier's `dossier_state` and `paused_status`)."""
    return (
        pause is not None
        and pause["dossier_state"] == DossierState.PAUSED
        and pause["paused_status"] == PortalStatus.SUPPLEMENT_REQUESTED
        and pause["requested_by"] not in (None, COUNTER)
    )


def steps_first(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Due times in the order they close when the result is ready: the steps', then the dossier's."""
    return sorted(rows, key=lambda row: row["scope"] != "step")


def responsible_agency(steps: Sequence[Mapping[str, Any]], receiving_unit: str | None) -> tuple[str | None, str | None]:
    """(code, name) of whom a late dossier is late at: the agency whose step is the most overdue
    now; else the one whose step closed late last; else the receiving unit."""
    live = sorted((s for s in steps if s["state"] in LIVE), key=lambda s: s["due_at"])
    if live:
        return live[0]["agency_code"], live[0]["agency_name"]
    late = sorted((s for s in steps if s["outcome"] == "late"), key=lambda s: s["completed_at"])
    if late:
        return late[-1]["agency_code"], late[-1]["agency_name"]
    return receiving_unit, None


def pending_hours(
    calendar: WorkingCalendar, now: datetime, steps: Sequence[Mapping[str, Any]], route: Sequence[Mapping[str, Any]]
) -> float:
    """Working time the steps not done yet still need: what the open steps have left, and the whole
    budget of each step of the route not started yet."""
    started = {s["step_id"] for s in steps}
    left = sum(max(0.0, calendar.working_hours_between(now, s["due_at"])) for s in steps if s["state"] == DeadlineState.OPEN)
    return left + sum(step["budget_hours"] for step in route if step["step_id"] not in started)


def apology_reason(dossier_code: str, agency_code: str | None, agency_name: str | None) -> str:
    """The reason the apology (Phiếu xin lỗi và hẹn lại ngày trả kết quả, form 4) gives."""
    who = agency_name or agency_code or "cơ quan giải quyết"
    return f"Hồ sơ {dossier_code} chưa được giải quyết đúng hẹn tại {who}."
