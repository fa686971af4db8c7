from datetime import UTC, datetime

import pytest

from intake.domain.catalogue import load_catalogue
from intake.domain.dossier import dossier_code


def test_dossier_code_uses_the_vietnam_date_and_four_digits() -> None:
    # 20:00 UTC on 21/11 is already 22/11 in Vietnam
    assert dossier_code("000.00.00.H30", datetime(2026, 11, 21, 20, 0, tzinfo=UTC), 7) == "000.00.00.H30-261122-0007"
    with pytest.raises(ValueError):
        dossier_code("000.00.00.H30", datetime(2026, 11, 21, tzinfo=UTC), 10000)


def test_sample_catalogue_routes_the_birth_group_in_parallel_after_civil_status() -> None:
    birth = load_catalogue().get("1.001193")
    assert birth is not None and birth.cutoff is not None
    assert {s.step_id: s.after for s in birth.steps} == {
        "civil-status": [],
        "residence": ["civil-status"],
        "health-insurance": ["civil-status"],
    }
