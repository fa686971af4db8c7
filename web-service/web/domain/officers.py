"""What the console shows an officer, from the roles in their token: the sections of the menu and
where signing in lands. The services enforce the same roles on every call."""

from __future__ import annotations

from dataclasses import dataclass

from services.identity import Principal, Role


@dataclass(frozen=True)
class Section:
    path: str
    label: str  # Vietnamese; translated on the page
    roles: frozenset[str]


SECTIONS = (
    Section("/tiep-nhan", "Tiếp nhận hồ sơ", frozenset({Role.COUNTER})),
    Section("/ho-so", "Hồ sơ của đơn vị", frozenset({Role.COUNTER, Role.LEADER, Role.PROVINCE_ADMIN})),
    Section("/xu-ly", "Hồ sơ cần xử lý", frozenset({Role.SPECIALIST})),
    Section("/thong-ke", "Thống kê đúng hạn", frozenset({Role.LEADER, Role.PROVINCE_ADMIN})),
    Section("/du-lieu-ca-nhan", "Dữ liệu cá nhân", frozenset({Role.OPERATOR})),
)


def sections_for(principal: Principal) -> list[Section]:
    return [s for s in SECTIONS if principal.has(*s.roles)]


def landing_for(principal: Principal) -> str:
    """The first page after signing in: the officer's main work."""
    sections = sections_for(principal)
    return sections[0].path if sections else "/khong-co-quyen"
