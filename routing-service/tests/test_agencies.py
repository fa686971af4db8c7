import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from routing.adapters.agencies import load_agencies
from routing.domain.agencies import Agencies, Agency
from routing.domain.national import portal_record


def test_agencies_are_data_with_their_signing_keys_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agencies.json"
    listed = [
        {"code": "CA-XA", "name": "Công an xã", "client_id": "ca-xa", "inbound_secret_env": "HMAC_CA"},
        {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh", "inbound_secret_env": "HMAC_BHXH"},
    ]
    path.write_text(json.dumps({"agencies": listed}))
    monkeypatch.setenv("HMAC_BHXH", "k3y")
    agencies = load_agencies(path)
    assert agencies.by_client["bhxh"].inbound_secret == "k3y"
    assert agencies.by_code["CA-XA"].inbound_secret is None  # HMAC_CA unset: no signed requests accepted


def test_an_agency_file_still_naming_a_client_secret_stops_the_start(tmp_path: Path) -> None:
    """Agencies' systems get their tokens from the identity provider now: a leftover secret is a mistake to show."""
    path = tmp_path / "agencies.json"
    stale = {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh", "client_secret_env": "ROUTING_SECRET_BHXH"}
    path.write_text(json.dumps({"agencies": [stale]}))
    with pytest.raises(ValidationError, match="client_secret_env"):
        load_agencies(path)


def test_agency_codes_and_clients_must_be_unique() -> None:
    a = Agency(code="A", name="A", client_id="a")
    with pytest.raises(ValueError, match="unique"):
        Agencies([a, Agency(code="A", name="B", client_id="b")])


def test_the_default_agency_file_loads() -> None:
    from routing.settings import DEFAULT_AGENCIES

    assert {"UBND-XA", "CA-XA", "BHXH"} <= set(load_agencies(DEFAULT_AGENCIES).by_code)


def test_portal_record_carries_status_dates_and_results() -> None:
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    dossier = {
        "dossier_code": "000.00.00.H30-261122-0001",
        "procedure_code": "1.001193",
        "procedure_name": "Liên thông khai sinh",
        "field_code": "HT",
        "applicant_name": "Nguyễn Thị Lan",
        "channel": 1,
        "received_at": datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
        "appointment_at": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    }
    record = portal_record(dossier, "result_ready", None, at, ["doc://khai-sinh/1"])
    assert record["TrangThaiHoSo"] == 9 and record["NgayTiepNhan"] == "20261122090000" and record["NgayTra"] is None
    assert record["DanhSachGiayToKetQua"] == [{"DuongDanTepTinKetQua": "doc://khai-sinh/1"}]
