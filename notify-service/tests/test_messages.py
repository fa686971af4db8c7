"""Templates per event type and channel: Vietnamese by default, English available."""

from notify.adapters.messages import render_email, render_sms
from notify.domain.policy import TRIGGERS

CODE = "000.00.00.H30-261122-0001"
CONTEXT = {
    "dossier": {
        "code": CODE,
        "procedure_name": "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        "applicant_name": "Nguyễn Thị Lan",
        "lookup_url": f"https://dvc.example.vn/tra-cuu?ma={CODE}",
    },
    "event": {
        "received_at": "2026-11-22T03:00:00+00:00",
        "clock_starts_at": "2026-11-22T03:00:00+00:00",
        "appointment_at": "2026-11-25T10:00:00+00:00",
        "items": ["Bản sao giấy chứng sinh", "Tờ khai đăng ký thường trú (mẫu CT01)", "Ảnh thẻ 3x4"],
        "reason": "Thiếu giấy tờ",
        "requested_at": "2026-11-22T03:00:00+00:00",
        "amount_vnd": 1250000,
        "description": "Lệ phí trước bạ",
        "responsible_agency_name": "Công an xã",
        "old_appointment_at": "2026-11-25T10:00:00+00:00",
        "new_appointment_at": "2026-11-28T02:00:00+00:00",
        "issued_at": "2026-11-24T10:00:00+00:00",
        "method": "post",
        "returned_at": "2026-11-28T10:00:00+00:00",
        "due_at": "2026-11-28T10:00:00+00:00",
        "threshold": "1-working-day",
        "step_id": "residence",
    },
    "agency": {"code": "CA-XA", "name": "Công an xã"},
}


# The receipt's context: the link with the secret, and without it (the `&` is refused by gateways).
WITH_SECRET = {
    **CONTEXT,
    "dossier": {
        **CONTEXT["dossier"],
        "lookup_url": f"https://dvc.example.vn/tra-cuu?ma={CODE}&ms=7KQ2MZ4P",
        "tracking_url": f"https://dvc.example.vn/tra-cuu?ma={CODE}",
        "lookup_secret": "7KQ2MZ4P",
    },
}


def test_every_trigger_renders_an_sms_within_one_segment_in_both_languages() -> None:
    for trigger in TRIGGERS.values():
        for language in ("vi", "en"):
            for limit in (160, 123):
                for context in (CONTEXT, WITH_SECRET):
                    sms = render_sms(trigger.template, context, language=language, limit=limit)
                    assert CODE in sms and len(sms) <= limit, (trigger.template, language, sms)
                    assert sms.isascii() and "&" not in sms


def test_the_receipt_sms_gives_the_appointment_and_the_look_up_link() -> None:
    sms = render_sms("received", CONTEXT)
    assert sms == f"Ho so {CODE} da tiep nhan, hen tra KQ 17:00 25/11/2026. Tra cuu: https://dvc.example.vn/tra-cuu?ma={CODE}"
    assert render_sms("received", CONTEXT, limit=123) == f"Ho so {CODE} da tiep nhan, hen tra KQ 17:00 25/11/2026."
    # the receipt's secret is always written out (the link with it holds a refused `&`)
    for limit in (160, 123):
        assert "7KQ2MZ4P" in render_sms("received", WITH_SECRET, limit=limit)
        assert "7KQ2MZ4P" in render_sms("received", WITH_SECRET, language="en", limit=limit)


def test_the_supplement_request_lists_every_missing_item_by_email_and_what_fits_by_sms() -> None:
    email = render_email("supplement_requested", CONTEXT, form="form_2_supplement")
    for item in CONTEXT["event"]["items"]:
        assert f"- {item}" in email.text and f"<li>{item}</li>" in email.html
        assert f"<li>{item}</li>" in email.attachment.content  # type: ignore[union-attr]
    assert email.attachment is not None and email.attachment.filename == f"mau-02-phieu-yeu-cau-bo-sung-{CODE}.html"
    assert "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ".upper() in email.attachment.content
    sms = render_sms("supplement_requested", CONTEXT)
    assert "Ban sao giay chung sinh (+2)" in sms


def test_emails_keep_full_vietnamese_and_english_is_available() -> None:
    vi = render_email("apology_issued", CONTEXT, form="form_4_apology")
    assert vi.subject == f"Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}"
    assert "Ngày hẹn trả kết quả mới: 09:00 28/11/2026." in vi.text and "Lý do: Thiếu giấy tờ" in vi.text
    assert vi.attachment is not None and "Mẫu số 04" in vi.attachment.content
    en = render_email("apology_issued", CONTEXT, language="en")
    assert en.subject.startswith("Apology and new appointment") and "New appointment: 09:00, 28 Nov 2026." in en.text
    assert en.attachment is None
    fee = render_email("fee_requested", CONTEXT)
    assert "1.250.000 đồng: Lệ phí trước bạ" in fee.text
    assert "1,250,000 VND" in render_sms("fee_requested", CONTEXT, language="en")
    assert "Result due: 17:00, 25 Nov 2026." in render_sms("received", CONTEXT, language="en", limit=123)


def test_html_escapes_what_came_from_outside() -> None:
    hostile = {**CONTEXT, "event": {**CONTEXT["event"], "reason": "<script>alert(1)</script>"}}
    email = render_email("refused", hostile)
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text


def test_staff_alerts_name_the_agency_and_the_due_time() -> None:
    overdue = render_email("deadline_overdue", CONTEXT)
    assert overdue.subject == f"[Quá hạn] Hồ sơ {CODE} đã quá hạn từ 17:00 28/11/2026"
    assert overdue.text.startswith("Kính gửi Công an xã,") and "bước residence" in overdue.text
