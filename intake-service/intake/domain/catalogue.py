"""The procedure catalogue (danh mục thủ tục hành chính): procedures as data, validated at start.

The catalogue file carries a version; every dossier records the version it was received under and
a snapshot of its procedure, so a later catalogue change never rewrites a dossier's documents,
fees or route."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.events.schemas import ResumeRule, RouteStep

HOURS_PER_DAY = 8


def _days_to_hours(data: Any, *names: str) -> Any:
    """Budgets may be written in working days (`budget_days`, the unit of the law) or hours."""
    if isinstance(data, dict):
        for name in names:
            days = f"{name}_days"
            if days in data:
                if f"{name}_hours" in data:
                    raise ValueError(f"give {name}_days or {name}_hours, not both")
                data = {k: v for k, v in data.items() if k != days} | {f"{name}_hours": data[days] * HOURS_PER_DAY}
    return data


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unit(_Data):
    """A receiving unit (đơn vị tiếp nhận); its code starts every dossier code it issues."""

    code: str = Field(min_length=1, max_length=40)
    name: str


class FieldOfProcedure(_Data):
    """Lĩnh vực."""

    code: str
    name: str


class Agency(_Data):
    code: str
    name: str


class RequiredDocument(_Data):
    """Thành phần hồ sơ: one item of the dossier, with how many originals and copies."""

    code: str
    name: str
    originals: int = Field(1, ge=0)
    copies: int = Field(0, ge=0)
    required: bool = True


class Fee(_Data):
    """Phí, lệ phí: `at_receipt` paid at the counter, `on_notice` when an agency (e.g. the tax office) notifies the amount."""

    name: str
    amount_vnd: int | None = Field(None, ge=0, description="None when the amount is set by a later notice (taxes).")
    collected: Literal["at_receipt", "on_notice", "at_result"]


class Step(RouteStep):
    """A step of the route as the catalogue holds it; `awaits_payment` marks a step after which the citizen pays (status 6)."""

    awaits_payment: bool = False

    @model_validator(mode="before")
    @classmethod
    def _days(cls, data: Any) -> Any:
        return _days_to_hours(data, "budget")

    def route_step(self) -> RouteStep:
        return RouteStep.model_validate(self.model_dump(exclude={"awaits_payment"}))


class Procedure(_Data):
    """Thủ tục hành chính."""

    code: str
    name: str
    field: str
    level: Literal["province", "commune"]
    competent_agency: Agency
    budget_hours: float = Field(gt=0, description="Working hours; 1 working day = 8 hours.")
    verification_budget_hours: float | None = Field(None, gt=0, description="When verification (xác minh) is needed.")
    cutoff: time | None = Field(
        None, description="Received at or after this time (Vietnam), the clock starts the next working day."
    )
    fully_online: bool = False
    channels: list[Literal[1, 2, 3]] = Field(min_length=1)
    business: bool = Field(False, description="Filed by a business household or enterprise: a tax code is required.")
    resume_rule: ResumeRule = "keep_elapsed"
    active: bool = True
    documents: list[RequiredDocument] = Field(min_length=1)
    fees: list[Fee] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _days(cls, data: Any) -> Any:
        return _days_to_hours(data, "budget", "verification_budget")

    @model_validator(mode="after")
    def _consistent(self) -> Procedure:
        ids = [s.step_id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"procedure {self.code}: step ids repeat")
        for step in self.steps:
            unknown = set(step.after) - set(ids[: ids.index(step.step_id)])
            if unknown:
                raise ValueError(f"procedure {self.code}: step {step.step_id} follows unknown or later steps {sorted(unknown)}")
        codes = [d.code for d in self.documents]
        if len(set(codes)) != len(codes):
            raise ValueError(f"procedure {self.code}: document codes repeat")
        if self.fully_online and 2 not in self.channels:
            raise ValueError(f"procedure {self.code}: fully online but not accepted online (channel 2)")
        return self

    @property
    def route(self) -> list[RouteStep]:
        return [s.route_step() for s in self.steps]

    @property
    def required_documents(self) -> list[RequiredDocument]:
        return [d for d in self.documents if d.required]


class Catalogue(_Data):
    version: str = Field(min_length=1, max_length=32)
    published_on: str | None = None
    units: list[Unit] = Field(min_length=1)
    fields: list[FieldOfProcedure]
    procedures: list[Procedure]

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        codes = [p.code for p in self.procedures]
        if len(set(codes)) != len(codes):
            raise ValueError("procedure codes repeat")
        known_fields = {f.code for f in self.fields}
        for procedure in self.procedures:
            if procedure.field not in known_fields:
                raise ValueError(f"procedure {procedure.code}: unknown field {procedure.field!r}")
        return self

    @property
    def default_unit(self) -> Unit:
        return self.units[0]

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)

    def get(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)

    def field_name(self, code: str) -> str:
        return next((f.name for f in self.fields if f.code == code), code)
