"""One example payload per event type, for the published schemas: built from sample values of the
fields (a few set per event where the same name means something else), and checked against the
model as it is built, so an example cannot drift from the code."""

from __future__ import annotations

from typing import Any

from services.events.registry import Event

_AT = "2026-03-02T09:15:00+07:00"

SAMPLES: dict[str, Any] = {
    "dossier_code": "000.00.01.H12-260302-0001",
    "procedure_code": "1.001757",
    "procedure_name": "Đăng ký khai sinh kết hợp đăng ký thường trú",
    "field_code": "HOTICH",
    "catalogue_version": "2026.1",
    "receiving_unit": "000.00.01.H12",
    "channel": 2,
    "fully_online": True,
    "appointment_at": "2026-03-06T16:30:00+07:00",
    "clock_starts_at": _AT,
    "budget_hours": 32.0,
    "resume_rule": "keep_elapsed",
    "route": [
        {
            "step_id": "civil-status",
            "agency_code": "UBND-PX1",
            "agency_name": "UBND Phường 1",
            "department": None,
            "budget_hours": 16.0,
            "after": [],
        },
        {
            "step_id": "residence",
            "agency_code": "CA-PX1",
            "agency_name": "Công an Phường 1",
            "department": None,
            "budget_hours": 16.0,
            "after": ["civil-status"],
        },
    ],
    "applicant_name": "Nguyễn Văn An",
    "applicant": None,
    "lookup_secret": None,
    "contact": "pd1.c1.4y3DvUo5qnQ3i2wq0yq0b2m8zv1wE6c0sJ6Yx9Q0a1k",
    "request_id": "pdr-2026-000001",
    "kind": "erasure",
    "service": "notify",
    "records": 3,
    "requested_by": "counter",
    "refused_by": "counter",
    "items": ["Bản sao giấy chứng nhận kết hôn"],
    "reason": "Thiếu bản sao giấy chứng nhận kết hôn",
    "method": "counter",
    "score": 5,
    "comment": None,
    "step_id": "civil-status",
    "to_step_id": "civil-status",
    "agency_code": "UBND-PX1",
    "agency_name": "UBND Phường 1",
    "from_agency_code": "UBND-PX2",
    "to_agency_code": "UBND-PX1",
    "to_agency_name": "UBND Phường 1",
    "department": None,
    "officer": "5b0e6a54-2f0c-4a51-9d35-0c1f3e0c7a11",
    "result_documents": ["doc:giay-khai-sinh-0001"],
    "note": None,
    "amount_vnd": 8000,
    "description": "Lệ phí đăng ký khai sinh",
    "receipt_ref": "BL-2026-000123",
    "scope": "dossier",
    "threshold": "1-working-day",
    "responsible_agency_code": "CA-PX1",
    "responsible_agency_name": "Công an Phường 1",
    "old_appointment_at": "2026-03-06T16:30:00+07:00",
    "new_appointment_at": "2026-03-10T16:30:00+07:00",
    "status": 5,
    "rule": "keep_elapsed",
    "outcome": "on_time",
    "notice_id": "ntc-01HQ3Z8K",
    "trigger": "dossier.received",
    "recipient": "091****678",
    "error": "gateway answered 400: invalid number",
    "permanent": True,
}

# Where a field of the same name takes another shape in one event.
OVERRIDES: dict[str, dict[str, Any]] = {
    "notify.notice_sent": {"channel": "sms"},
    "notify.notice_delivered": {"channel": "sms"},
    "notify.notice_failed": {"channel": "sms"},
    "deadline.tracked": {"scope": "step"},
    "deadline.warning": {"scope": "step"},
    "deadline.overdue": {"scope": "step"},
    "deadline.closed": {"scope": "step"},
}


def example(schema: type[Event]) -> dict[str, Any]:
    """The example payload of one event type, validated by its model."""
    overrides = OVERRIDES.get(schema.event_type, {})
    values: dict[str, Any] = {}
    for name in schema.model_fields:
        if name in overrides:
            values[name] = overrides[name]
        elif name in SAMPLES:
            values[name] = SAMPLES[name]
        elif name.endswith("_at"):
            values[name] = _AT
        else:
            raise LookupError(f"{schema.event_type}: no sample value for `{name}`; add one to SAMPLES")
    return schema.model_validate(values).model_dump(mode="json")
