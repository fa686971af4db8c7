"""The catalogue file (INTAKE_CATALOGUE_PATH): read and validated once per path, so an invalid
file stops the service at its start."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from intake.domain.catalogue import Catalogue

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "catalogue" / "procedures.json"


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    return Catalogue.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
