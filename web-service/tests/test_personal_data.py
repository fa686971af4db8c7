"""The personal-data pages' rules without I/O: what the operator's form must hold before anything is
sent, a request shown per dossier with each service's answer, and the export file for the citizen."""

from __future__ import annotations

from typing import Any

from web.domain.personal_data import (
    CITIZEN_ID_INVALID,
    CITIZEN_ID_MISSING,
    KIND_INVALID,
    NOT_CONFIRMED,
    UNAVAILABLE,
    WAITING,
    RequestForm,
    Value,
    export_document,
    request_view,
)

A, B = "6f1c0e7e-1111-4c1e-9a55-000000000001", "6f1c0e7e-2222-4c1e-9a55-000000000002"
REQUEST: dict[str, Any] = {
    "id": "pdr-0a1b",
    "kind": "export",
    "requested_at": "2026-12-01T02:00:00+00:00",
    "requested_by": "Lê Vận Hành",
    "dossiers": [A, B],
    "codes": {A: "000.00.00.H30-261201-0001", B: "000.00.00.H30-261201-0002"},
    "kept": [],
    "answers": {A: {"intake": 1, "routing": 1, "deadline": 0, "notify": 3}, B: {"intake": 1}},
    "complete": False,
    "held": {
        A: {
            "applicant": [
                {
                    "name": "Đoàn Thị Quyền",
                    "phone": "0912000111",
                    "address": None,
                    "opt_out_non_essential": False,
                    "sent_at": "2026-12-01T02:47:25.341233+00:00",
                    "notify_channels": ["sms"],
                }
            ]
        },
        B: {},
    },
}
NOTIFY_PART = [{"dossier_id": A, "kind": "export", "records": 3, "held": {"contacts": [{"phone": "0912000111"}], "notices": []}}]


def test_the_form_needs_twelve_digits_a_kind_and_for_an_erasure_a_confirmation() -> None:
    assert RequestForm.from_form({"citizen_id": " 0791 9000 1234 ", "kind": "export"}).errors() == {}
    assert RequestForm.from_form({"kind": "export"}).errors() == {"citizen_id": CITIZEN_ID_MISSING}
    assert RequestForm.from_form({"citizen_id": "07919000123", "kind": "export"}).errors() == {"citizen_id": CITIZEN_ID_INVALID}
    assert RequestForm.from_form({"citizen_id": "07919000123a", "kind": "export"}).errors() == {"citizen_id": CITIZEN_ID_INVALID}
    assert RequestForm.from_form({"citizen_id": "079190001234", "kind": "delete"}).errors() == {"kind": KIND_INVALID}
    unconfirmed = RequestForm.from_form({"citizen_id": "079190001234", "kind": "erasure"})
    assert unconfirmed.errors() == {"confirmed": NOT_CONFIRMED}
    assert RequestForm.from_form({"citizen_id": "079190001234", "kind": "erasure", "confirmed": "yes"}).errors() == {}


def test_a_request_reads_per_dossier_with_each_services_answer_and_what_it_held() -> None:
    view = request_view(REQUEST, {"routing": [], "deadline": [], "notify": NOTIFY_PART})
    assert [(r.code, r.answers) for r in view.rows] == [
        ("000.00.00.H30-261201-0001", {"intake": "1", "routing": "1", "deadline": "0", "notify": "3"}),
        ("000.00.00.H30-261201-0002", {"intake": "1", "routing": WAITING, "deadline": WAITING, "notify": WAITING}),
    ]
    first = view.rows[0]
    assert [(h.service, h.data_class, h.label) for h in first.held] == [
        ("intake", "applicant", "Người nộp hồ sơ"),
        ("notify", "contacts", "Thông tin liên lạc nhận thông báo"),
    ]  # an empty class (no notices) is not shown
    assert first.held[0].records[0].fields == [
        ("Họ và tên", Value("Đoàn Thị Quyền")),
        ("Số điện thoại", Value("0912000111")),
        ("Địa chỉ", Value("—", "word")),
        ("Từ chối thông báo không bắt buộc", Value("Không", "word")),
        ("Thời điểm gửi", Value("2026-12-01T02:47:25.341233+00:00", "instant")),
        ("Kênh nhận thông báo", Value('["sms"]')),
    ]
    assert view.rows[1].held == [] and not view.complete


def test_a_service_that_cannot_be_reached_is_named_and_the_request_is_not_shown_complete() -> None:
    done = {**REQUEST, "answers": {A: {"intake": 1}, B: {"intake": 1}}, "complete": True}
    view = request_view(done, {"routing": [], "deadline": None, "notify": []})
    assert view.unavailable == ["deadline"] and not view.complete
    assert view.rows[0].answers["deadline"] == UNAVAILABLE and view.rows[0].answers["routing"] == WAITING


def test_the_export_file_gives_each_dossier_with_what_each_service_held() -> None:
    document = export_document(REQUEST, {"routing": [], "deadline": [], "notify": NOTIFY_PART})
    assert document["request_id"] == "pdr-0a1b" and document["complete"] is False
    assert document["dossiers"] == [
        {
            "dossier_code": "000.00.00.H30-261201-0001",
            "held": {
                "intake": REQUEST["held"][A],
                "notify": {"contacts": [{"phone": "0912000111"}], "notices": []},
            },
        },
        {"dossier_code": "000.00.00.H30-261201-0002", "held": {}},
    ]


def test_every_text_of_the_personal_data_pages_has_its_english() -> None:
    import re
    from pathlib import Path

    from web.domain import personal_data
    from web.domain.i18n import english

    templates = Path(personal_data.__file__).resolve().parent.parent / "adapters" / "templates" / "personal_data"
    texts: set[str] = set()
    for page in templates.rglob("*.html"):
        source = page.read_text(encoding="utf-8")
        texts |= {m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.*?)\1\s*\)""", source)}
        texts |= set(re.findall(r'm\.field\("[^"]+", "([^"]+)"', source)) | set(re.findall(r'(?:hint|heading)="([^"]+)"', source))
    for table in (personal_data.KINDS, personal_data.SERVICES, personal_data.DATA_CLASSES, personal_data.FIELDS):
        texts |= set(table.values())
    texts |= {*personal_data.MESSAGES, personal_data.WAITING, personal_data.UNAVAILABLE, personal_data.SENT}
    texts |= {personal_data.YES, personal_data.NO, personal_data.NOTHING}
    assert sorted(t for t in texts if t not in english()) == []
