import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from routing.adapters import tokens
from routing.adapters.agencies import load_agencies
from routing.domain.agencies import Agencies, Agency
from routing.domain.national import portal_record


def test_a_token_names_its_agency_until_it_expires() -> None:
    token = tokens.issue("k" * 32, "UBND-XA", "ubnd-xa", ttl_seconds=300)
    assert tokens.agency_of("k" * 32, token) == "UBND-XA"
    assert tokens.agency_of("other-key" * 4, token) is None
    expired = tokens.issue("k" * 32, "UBND-XA", "ubnd-xa", ttl_seconds=60, now=1_000_000)
    assert tokens.agency_of("k" * 32, expired) is None


def test_agencies_are_data_with_secrets_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agencies.json"
    path.write_text(
        json.dumps(
            {
                "agencies": [
                    {
                        "code": "CA-XA",
                        "name": "Công an xã",
                        "client_id": "ca-xa",
                        "client_secret_env": "SECRET_CA",
                        "inbound_secret_env": "HMAC_CA",
                    }
                ]
            }
        )
    )
    monkeypatch.setenv("SECRET_CA", "s3cret")
    agencies = load_agencies(path)
    assert agencies.by_client["ca-xa"].client_secret == "s3cret"
    assert agencies.by_code["CA-XA"].inbound_secret is None  # HMAC_CA unset: no signed requests accepted


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
