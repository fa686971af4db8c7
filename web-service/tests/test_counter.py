"""The counter's rules without I/O: the actions each status allows, the reception form as intake's
body, the Vietnamese message beside each refused field, the procedure search, the queue's filters,
and what the printable forms 1, 2, 3 and 5 show."""

from __future__ import annotations

import asyncio

from web.adapters.pdf import html_to_pdf
from web.domain.counter import (
    Action,
    QueueFilters,
    ReceptionForm,
    action_body,
    action_for,
    actions_for,
    apology_form,
    control_sheet,
    dossier_create,
    field_messages,
    legal_date,
    lookup_link,
    match_procedures,
    receiving_units,
    refusal_form,
    supplement_form,
)

BIRTH = {
    "code": "1.001193",
    "name": "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    "field": "HT",
    "field_name": "Hộ tịch",
    "documents": [
        {"code": "birth-certificate", "name": "Giấy chứng sinh (bản chính)", "originals": 1, "copies": 0, "required": True},
        {"code": "interlinked-form", "name": "Tờ khai liên thông", "originals": 1, "copies": 0, "required": True},
        {"code": "parents-marriage", "name": "Giấy chứng nhận kết hôn", "originals": 0, "copies": 1, "required": False},
    ],
}
CERTIFY = {"code": "2.000815", "name": "Chứng thực bản sao từ bản chính", "field": "CT", "field_name": "Chứng thực"}


# ---------------------------------------------------------------- actions


def test_a_received_dossier_may_be_sent_back_for_supplement_refused_or_withdrawn_but_not_returned() -> None:
    assert actions_for(2) == [Action.REQUEST_SUPPLEMENT, Action.REFUSE, Action.WITHDRAW]


def test_while_waiting_for_a_supplement_the_counter_records_it_refuses_or_the_citizen_withdraws() -> None:
    assert actions_for(5) == [Action.RECEIVE_SUPPLEMENT, Action.REFUSE, Action.WITHDRAW]


def test_a_dossier_being_handled_can_no_longer_be_refused_at_the_counter() -> None:
    assert Action.REFUSE not in actions_for(4)
    assert actions_for(4) == [Action.REQUEST_SUPPLEMENT, Action.WITHDRAW]


def test_only_a_ready_result_can_be_returned() -> None:
    assert actions_for(9) == [Action.RETURN_RESULT]
    assert all(Action.RETURN_RESULT not in actions_for(s) for s in range(1, 11) if s != 9)


def test_closed_dossiers_offer_nothing() -> None:
    for closed in (3, 7, 10):
        assert actions_for(closed) == []


def test_awaiting_fees_or_stopped_the_citizen_may_still_withdraw() -> None:
    assert actions_for(6) == [Action.WITHDRAW]
    assert actions_for(8) == [Action.WITHDRAW]


def test_an_unknown_status_offers_nothing() -> None:
    assert actions_for(42) == []


def test_each_action_has_its_page_path() -> None:
    for action in Action:
        from web.domain.counter import ACTION_PATHS

        assert action_for(ACTION_PATHS[action]) is action
    assert action_for("xoa-ho-so") is None


def test_a_supplement_request_lists_every_missing_item_one_a_line() -> None:
    body = action_body(Action.REQUEST_SUPPLEMENT, {"items": " Giấy chứng sinh \n\n Tờ khai ký đủ \r\n", "reason": " "})
    assert body == {"items": ["Giấy chứng sinh", "Tờ khai ký đủ"], "reason": None}


def test_a_refusal_sends_its_reason_and_a_return_its_method() -> None:
    assert action_body(Action.REFUSE, {"reason": " Không thuộc thẩm quyền "}) == {"reason": "Không thuộc thẩm quyền"}
    assert action_body(Action.RETURN_RESULT, {"method": "post"}) == {"method": "post"}
    assert action_body(Action.WITHDRAW, {}) == {"reason": None}


# ---------------------------------------------------------------- the reception form


def posted(**extra: str) -> list[tuple[str, str]]:
    pairs = [
        ("procedure_code", "1.001193"),
        ("channel", "1"),
        ("receiving_unit", "000.00.00.H30"),
        ("result_delivery", "counter"),
        ("name", " Nguyễn Thị Lan "),
        ("citizen_id", "079190001234"),
        ("phone", "0912345678"),
        ("email", ""),
        ("notify", "sms"),
        ("doc", "birth-certificate"),
        ("originals:birth-certificate", "1"),
        ("copies:birth-certificate", "0"),
        ("doc", "interlinked-form"),
        ("originals:interlinked-form", ""),
        ("copies:interlinked-form", "2"),
        ("originals:parents-marriage", "0"),
        ("copies:parents-marriage", "1"),
    ]
    return pairs + list(extra.items())


def test_the_form_becomes_intakes_body_with_only_the_documents_ticked() -> None:
    body = dossier_create(ReceptionForm.from_pairs(posted()), BIRTH)
    assert body == {
        "procedure_code": "1.001193",
        "channel": 1,
        "receiving_unit": "000.00.00.H30",
        "result_delivery": "counter",
        "documents": [
            {"code": "birth-certificate", "originals": 1, "copies": 0},
            {"code": "interlinked-form", "originals": 1, "copies": 2},  # empty originals: the catalogue's number
        ],
        "applicant": {
            "name": "Nguyễn Thị Lan",
            "citizen_id": "079190001234",
            "phone": "0912345678",
            "notify_channels": ["sms"],
            "language": "vi",
        },
    }


def test_the_applicant_who_reads_english_gets_notices_in_english() -> None:
    body = dossier_create(ReceptionForm.from_pairs(posted(language="en")), BIRTH)
    assert body["applicant"]["language"] == "en"


def test_a_count_that_is_not_a_number_goes_to_the_api_as_typed_so_it_names_the_field() -> None:
    pairs = [(k, "hai" if k == "copies:birth-certificate" else v) for k, v in posted()]
    body = dossier_create(ReceptionForm.from_pairs(pairs), BIRTH)
    assert body["documents"][0]["copies"] == "hai"


def test_the_form_keeps_what_was_typed_for_a_second_try() -> None:
    form = ReceptionForm.from_pairs(posted(phone="12345"))
    assert form.phone == "12345"
    assert form.documents == ("birth-certificate", "interlinked-form")
    assert form.copies["interlinked-form"] == "2"


def test_a_bad_phone_is_told_beside_the_phone_in_vietnamese() -> None:
    errors = [
        {"field": "applicant.phone", "message": "String should match pattern '^(0|\\+84)…'", "code": "string_pattern_mismatch"}
    ]
    shown = field_messages(errors)
    assert list(shown) == ["phone"]
    assert "0912345678" in shown["phone"] and "Số điện thoại" in shown["phone"]


def test_sms_without_a_phone_says_the_phone_is_needed() -> None:
    shown = field_messages([{"field": "applicant.phone", "message": "SMS notices need a mobile number", "code": "missing"}])
    assert shown["phone"] == "Cần số điện thoại di động để gửi thông báo qua SMS."


def test_every_missing_required_document_is_named_beside_the_checklist() -> None:
    shown = field_messages(
        [
            {
                "field": "documents",
                "message": "missing required document 'a': Giấy chứng sinh (bản chính)",
                "code": "missing_document",
            },
            {"field": "documents", "message": "missing required document 'b': Tờ khai liên thông", "code": "missing_document"},
            {"field": "documents.0.copies", "message": "Input should be a valid integer", "code": "int_parsing"},
        ]
    )
    assert list(shown) == ["documents"]
    assert "Giấy chứng sinh (bản chính)" in shown["documents"] and "Tờ khai liên thông" in shown["documents"]


def test_an_unknown_field_keeps_the_apis_message() -> None:
    assert field_messages([{"field": "applicant.kind", "message": "Input should be 'citizen'", "code": "literal_error"}]) == {
        "applicant.kind": "Input should be 'citizen'"
    }


def test_the_search_finds_by_name_without_diacritics_by_code_and_by_field() -> None:
    procedures = [BIRTH, CERTIFY]
    assert match_procedures(procedures, "khai sinh") == [BIRTH]
    assert match_procedures(procedures, "KHAI SINH bảo hiểm") == [BIRTH]
    assert match_procedures(procedures, "1.001193") == [BIRTH]
    assert match_procedures(procedures, "chứng thực") == [CERTIFY]
    assert match_procedures(procedures, "ho tich") == [BIRTH]
    assert match_procedures(procedures, "   ") == []
    assert match_procedures(procedures, "đất đai") == []


def test_an_officer_of_one_unit_receives_for_it_alone_the_administrator_for_any() -> None:
    units = [{"code": "H30", "name": "Trung tâm tỉnh"}, {"code": "PL", "name": "Trung tâm xã Phú Lộc"}]
    assert receiving_units(["PL"], units) == [{"code": "PL", "name": "Trung tâm xã Phú Lộc"}]
    assert receiving_units([], units) == units


# ---------------------------------------------------------------- the queue


def test_the_queue_asks_for_the_days_in_vietnam_time_the_last_day_included() -> None:
    filters = QueueFilters.from_query({"received_from": "2026-11-01", "received_to": "2026-11-30", "status": "4", "overdue": "1"})
    params, errors = filters.api_params()
    assert errors == {}
    assert params["received_from"] == "2026-11-01T00:00:00+07:00"
    assert params["received_to"] == "2026-12-01T00:00:00+07:00"
    assert params["status"] == [4] and params["overdue"] == "true"


def test_filters_that_cannot_be_read_are_named() -> None:
    _, errors = QueueFilters.from_query({"received_from": "30/11/2026", "status": "11", "channel": "x"}).api_params()
    assert set(errors) == {"received_from", "status", "channel"}


def test_the_next_page_keeps_the_filters() -> None:
    link = QueueFilters.from_query({"q": "Lan", "overdue": "on"}).query_string(cursor="abc")
    assert link == "overdue=1&q=Lan&cursor=abc"


# ---------------------------------------------------------------- the printable forms


def test_the_date_line_is_the_day_in_vietnam() -> None:
    # 17:30 UTC on 22 November is already 23 November in Vietnam
    assert legal_date("2026-11-22T17:30:00+00:00", "Lâm Đồng") == "Lâm Đồng, ngày 23 tháng 11 năm 2026"
    assert legal_date("2026-03-05T02:00:00+00:00").endswith(", ngày 05 tháng 03 năm 2026")


def test_the_qr_code_opens_the_citizens_page_with_the_code_and_the_secret() -> None:
    assert (
        lookup_link("https://motcua.example.vn/", "000.00.00.H30-261122-0001", "7KQ2MZ4P")
        == "https://motcua.example.vn/tra-cuu?ma=000.00.00.H30-261122-0001&ms=7KQ2MZ4P"
    )


def dossier(**extra: object) -> dict:
    return {
        "code": "000.00.00.H30-261122-0001",
        "procedure_name": "Đăng ký khai sinh",
        "status": 5,
        "received_at": "2026-11-22T02:00:00+00:00",
        "supplements": [],
        "timeline": [],
        "closing_reason": None,
        **extra,
    }


def test_form_2_shows_the_latest_request_with_every_item_and_who_asked() -> None:
    d = dossier(
        supplements=[
            {
                "requested_by": "counter",
                "items": ["A"],
                "reason": None,
                "requested_at": "2026-11-22T03:00:00+00:00",
                "appointment_before": "x",
            },
            {
                "requested_by": "counter",
                "items": ["Giấy chứng sinh", "Tờ khai"],
                "reason": "Thiếu giấy tờ",
                "requested_at": "2026-11-24T03:00:00+00:00",
                "appointment_before": "2026-11-27T03:00:00+00:00",
            },
        ],
        timeline=[
            {"at": "2026-11-22T03:00:00+00:00", "kind": "supplement_requested", "detail": {"by": {"name": "Cán bộ Một"}}},
            {"at": "2026-11-24T03:00:00+00:00", "kind": "supplement_requested", "detail": {"by": {"name": "Nguyễn Thị Tiếp"}}},
        ],
    )
    form = supplement_form(d, "Nguyễn Thị Lan")
    assert form is not None
    assert form["items"] == ["Giấy chứng sinh", "Tờ khai"] and form["reason"] == "Thiếu giấy tờ"
    assert form["officer"] == "Nguyễn Thị Tiếp" and form["applicant_name"] == "Nguyễn Thị Lan"


def test_no_form_2_without_a_supplement_request_and_no_form_3_unless_refused() -> None:
    assert supplement_form(dossier(), "X") is None
    assert refusal_form(dossier(status=2), "X") is None


def test_form_3_gives_the_reason_and_the_officer_who_refused() -> None:
    d = dossier(
        status=3,
        closing_reason="Không thuộc thẩm quyền",
        timeline=[
            {
                "at": "2026-11-22T04:00:00+00:00",
                "kind": "refused",
                "detail": {"reason": "Không thuộc thẩm quyền", "by": {"name": "Nguyễn Thị Tiếp"}},
            }
        ],
    )
    form = refusal_form(d, "Nguyễn Thị Lan")
    assert form == {
        "dossier_code": "000.00.00.H30-261122-0001",
        "applicant_name": "Nguyễn Thị Lan",
        "procedure_name": "Đăng ký khai sinh",
        "reason": "Không thuộc thẩm quyền",
        "refused_at": "2026-11-22T04:00:00+00:00",
        "officer": "Nguyễn Thị Tiếp",
    }


def test_form_5_lists_handovers_in_time_order_and_each_steps_outcome() -> None:
    route = {
        "dossier_code": "C",
        "steps": [
            {
                "step_id": "civil-status",
                "agency_name": "UBND xã (hộ tịch)",
                "state": "done",
                "officer": "Lê Thị Mai",
                "assigned_at": "t1",
                "completed_at": "t2",
            },
            {
                "step_id": "residence",
                "agency_name": "Công an xã",
                "state": "assigned",
                "officer": None,
                "assigned_at": "t2",
                "completed_at": None,
            },
        ],
        "handovers": [
            {
                "at": "2026-11-22T05:00:00+00:00",
                "from_party": "UBND-XA",
                "to_party": "CA-XA",
                "actor": "Lê Thị Mai",
                "action": "complete",
                "note": None,
            },
            {
                "at": "2026-11-22T02:00:00+00:00",
                "from_party": "H30",
                "to_party": "UBND-XA",
                "actor": "Nguyễn Thị Tiếp",
                "action": "assign",
                "note": None,
            },
        ],
    }
    deadlines = [
        {"scope": "dossier", "step_id": "dossier", "due_at": "d0", "outcome": None},
        {"scope": "step", "step_id": "civil-status", "due_at": "d1", "outcome": "early"},
    ]
    sheet = control_sheet(route, deadlines)
    assert [h["action"] for h in sheet["handovers"]] == ["Chuyển hồ sơ", "Hoàn thành, chuyển tiếp"]
    assert sheet["steps"][0]["outcome"] == "Trước hạn" and sheet["steps"][0]["due_at"] == "d1"
    assert sheet["steps"][1]["outcome"] == "" and sheet["steps"][1]["state"] == "Đã chuyển, chờ tiếp nhận"


# ---------------------------------------------------------------- English


def test_every_text_of_the_counter_pages_has_its_english() -> None:
    import re
    from pathlib import Path

    from web.domain import counter
    from web.domain.i18n import english

    templates = Path(counter.__file__).resolve().parent.parent / "adapters" / "templates" / "counter"
    texts = set()
    for page in templates.rglob("*.html"):
        source = page.read_text(encoding="utf-8")
        texts |= {m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.*?)\1\s*\)""", source)}
        texts |= set(re.findall(r'm\.field\("[^"]+", "([^"]+)"', source)) | set(re.findall(r'(?:hint|heading)="([^"]+)"', source))
    for table in (counter.ACTION_LABELS, counter.FLASHES, counter.RETURN_METHODS, counter.STEP_STATES, counter.NOTICE_STATES):
        texts |= set(table.values())
    texts |= set(counter.FIELD_MESSAGES.values()) | {counter.CONFLICT}
    missing = sorted(t for t in texts if t not in english())
    assert missing == []


LATE = {
    "code": "000.00.00.H30-261109-0007",
    "procedure_name": "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    "received_at": "2026-11-09T02:00:00+00:00",
}
APOLOGIES = [
    {
        "responsible_agency_code": "CA-XA",
        "responsible_agency_name": "Công an xã (cư trú)",
        "reason": "Chưa xác minh xong nơi cư trú",
        "old_appointment_at": "2026-11-12T10:00:00+00:00",
        "new_appointment_at": "2026-11-14T10:00:00+00:00",
        "issued_at": "2026-11-12T10:00:05+00:00",
    },
    {
        "responsible_agency_code": "CA-XA",
        "responsible_agency_name": "Công an xã (cư trú)",
        "reason": "Cần thêm thời gian xác minh",
        "old_appointment_at": "2026-11-14T10:00:00+00:00",
        "new_appointment_at": "2026-11-18T10:00:00+00:00",
        "issued_at": "2026-11-14T10:00:05+00:00",
    },
]


def test_form_4_is_the_latest_apology_and_there_is_none_for_a_dossier_never_late() -> None:
    assert apology_form({"apologies": []}, LATE, "Nguyễn Thị Lan") is None
    assert apology_form(None, LATE, "Nguyễn Thị Lan") is None
    form = apology_form({"apologies": APOLOGIES}, LATE, "Nguyễn Thị Lan")
    assert form is not None
    assert (form["agency_name"], form["reason"]) == ("Công an xã (cư trú)", "Cần thêm thời gian xác minh")
    assert form["new_appointment_at"] == "2026-11-18T10:00:00+00:00" and form["received_on"] == "09/11/2026"


def test_form_4_is_printed_in_the_legal_layout_and_as_a_pdf() -> None:
    from web.entrypoints.pages import templates

    form = apology_form({"apologies": APOLOGIES}, LATE, "Nguyễn Thị Lan")
    html = templates.get_template("counter/forms/apology.html").render(
        r={"dossier_code": LATE["code"], "unit_name": "Trung tâm Phục vụ hành chính công tỉnh"},
        f=form,
        date_line=legal_date(form["issued_at"]),
        pdf=True,
        _=lambda text: text,
    )
    for text in (
        "CÔNG AN XÃ (CƯ TRÚ)",  # the agency the dossier is late at issues it
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ngày 14 tháng 11 năm 2026",
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Kính gửi: Ông/Bà <strong>Nguyễn Thị Lan</strong>",
        "Lý do: Cần thêm thời gian xác minh",
        "17:00 18/11/2026",  # the new appointment, in Vietnam time
        "THỦ TRƯỞNG CƠ QUAN, TỔ CHỨC",
    ):
        assert text in html, text
    pdf = asyncio.run(html_to_pdf(html))
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000
