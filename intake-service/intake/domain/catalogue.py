"""The procedure catalogue (danh mục thủ tục hành chính): procedures as data, validated at start."""

from __future__ import annotations

import json
from datetime import time
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.events.schemas import RouteStep

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "catalogue" / "procedures.json"


class Procedure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    field: str
    budget_hours: float = Field(gt=0)
    cutoff: time | None = None
    steps: list[RouteStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_form_a_route(self) -> "Procedure":
        ids = [s.step_id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"procedure {self.code}: step ids repeat")
        for step in self.steps:
            unknown = set(step.after) - set(ids[: ids.index(step.step_id)])
            if unknown:
                raise ValueError(f"procedure {self.code}: step {step.step_id} follows unknown or later steps {sorted(unknown)}")
        return self


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    receiving_unit: str
    procedures: list[Procedure]

    def get(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    return Catalogue.model_validate(json.loads(path.read_text(encoding="utf-8")))
