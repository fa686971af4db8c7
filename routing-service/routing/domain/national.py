"""The national portal's (Cổng Dịch vụ công quốc gia, DVCQG) view of a dossier (pure).

Routing follows each dossier through phases; each phase is one national status code
(TrangThaiHoSo, `services.vocabulary.PortalStatus`): 1 newly submitted online · 2 accepted ·
3 refused · 4 being handled · 5 supplement requested · 6 waiting for financial obligation ·
7 withdrawn · 8 handling stopped · 9 handled, result ready · 10 result delivered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from services.vocabulary import FINAL_STATUSES, VN_TZ, PortalStatus

DossierPhase = Literal[
    "submitted", "received", "handling", "supplement", "fee", "stopped", "refused", "withdrawn", "result_ready", "delivered"
]

PHASE_STATUS: dict[str, PortalStatus] = {
    "submitted": PortalStatus.SUBMITTED_ONLINE,
    "received": PortalStatus.ACCEPTED,
    "refused": PortalStatus.REFUSED,
    "handling": PortalStatus.IN_PROGRESS,
    "supplement": PortalStatus.SUPPLEMENT_REQUESTED,
    "fee": PortalStatus.AWAITING_PAYMENT,
    "withdrawn": PortalStatus.WITHDRAWN,
    "stopped": PortalStatus.STOPPED,
    "result_ready": PortalStatus.RESULT_READY,
    "delivered": PortalStatus.DELIVERED,
}
# Refused, withdrawn, delivered: what the steps do no longer changes the dossier's phase.
FINAL_PHASES = frozenset(phase for phase, status in PHASE_STATUS.items() if status in FINAL_STATUSES)


def status_code(phase: str) -> PortalStatus:
    return PHASE_STATUS[phase]


def phase_from_steps(states: Iterable[str]) -> str:
    """The dossier's phase while its route is open: any step waiting for the citizen pauses the dossier."""
    states = set(states)
    if states and states <= {"done"}:
        return "result_ready"
    for waiting, phase in (("supplement", "supplement"), ("fee", "fee"), ("stopped", "stopped")):
        if waiting in states:
            return phase
    if states & {"accepted", "done"} or "assigned" in states:
        return "handling"
    return "received"


def portal_date(moment: datetime | None) -> str | None:
    """Dates on the portal: `yyyyMMddHHmmss`, Vietnam time."""
    return moment.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S") if moment else None


def portal_record(
    dossier: Mapping[str, Any], phase: str, handling_unit: str | None, at: datetime, results: Iterable[str] = ()
) -> dict[str, Any]:
    """The DongBoHoSoMC body for one dossier in one phase; result documents once the result is ready."""
    return {
        "MaHoSo": dossier["dossier_code"],
        "MaTTHC": dossier["procedure_code"],
        "TenTTHC": dossier["procedure_name"],
        "MaLinhVuc": dossier.get("field_code") or "",
        "ChuHoSo": dossier.get("applicant_name") or "",  # '' once erased
        "HinhThuc": dossier["channel"],
        "NgayTiepNhan": portal_date(dossier["received_at"]),
        "NgayHenTra": portal_date(dossier["appointment_at"]),
        "TrangThaiHoSo": int(status_code(phase)),
        "DonViXuLy": handling_unit or "",
        "NgayCapNhat": portal_date(at),
        "NgayTra": portal_date(at) if phase == "delivered" else None,
        "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": ref} for ref in results],
    }
