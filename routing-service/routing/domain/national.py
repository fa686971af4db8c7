"""The national portal's (Cổng Dịch vụ công quốc gia, DVCQG) view of a dossier (pure).

Status codes (TrangThaiHoSo): 1 newly submitted online · 2 accepted · 3 refused · 4 being
handled · 5 supplement requested · 6 waiting for financial obligation · 7 withdrawn ·
8 handling stopped · 9 handled, result ready · 10 result delivered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

DossierPhase = Literal[
    "submitted", "received", "handling", "supplement", "fee", "stopped", "refused", "withdrawn", "result_ready", "delivered"
]

STATUS_CODES: dict[str, int] = {
    "submitted": 1,
    "received": 2,
    "refused": 3,
    "handling": 4,
    "supplement": 5,
    "fee": 6,
    "withdrawn": 7,
    "stopped": 8,
    "result_ready": 9,
    "delivered": 10,
}
FINAL_PHASES = frozenset({"refused", "withdrawn", "delivered"})


def status_code(phase: str) -> int:
    return STATUS_CODES[phase]


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
    dossier: dict[str, Any], phase: str, handling_unit: str | None, at: datetime, results: Iterable[str] = ()
) -> dict[str, Any]:
    """The DongBoHoSoMC body for one dossier in one phase; result documents once the result is ready."""
    return {
        "MaHoSo": dossier["dossier_code"],
        "MaTTHC": dossier["procedure_code"],
        "TenTTHC": dossier["procedure_name"],
        "MaLinhVuc": dossier.get("field_code") or "",
        "ChuHoSo": dossier["applicant_name"],
        "HinhThuc": dossier["channel"],
        "NgayTiepNhan": portal_date(dossier["received_at"]),
        "NgayHenTra": portal_date(dossier["appointment_at"]),
        "TrangThaiHoSo": status_code(phase),
        "DonViXuLy": handling_unit or "",
        "NgayCapNhat": portal_date(at),
        "NgayTra": portal_date(at) if phase == "delivered" else None,
        "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": ref} for ref in results],
    }
