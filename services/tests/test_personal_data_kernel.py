"""Sealing, blind indexes and redaction of personal data (`services.personal_data`), without I/O."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field, ValidationError

from services.personal_data.keys import KeyRing, SealError, new_key, ring_text
from services.personal_data.redaction import describe, redact_raw, scrub
from services.personal_data.rings import make_keyrings, process_env, rotate, service_ring

CITIZEN_ID, PHONE, EMAIL = "079188123456", "0977123456", "tran.thi.mai@example.vn"


def ring(**keys: str) -> KeyRing:
    return KeyRing.from_text(ring_text(keys), new_key())


def test_a_sealed_value_carries_its_key_id_and_not_the_value() -> None:
    keys = ring(k1=new_key())
    sealed = keys.seal(PHONE, purpose="notify.contacts.phone")
    assert sealed is not None and sealed.startswith("pd1.k1.") and PHONE not in sealed
    assert keys.open(sealed, purpose="notify.contacts.phone") == PHONE
    assert keys.seal(PHONE, purpose="x") != keys.seal(PHONE, purpose="x"), "a fresh nonce each time"
    assert keys.seal(None, purpose="x") is None and keys.open(None, purpose="x") is None


def test_a_value_copied_to_another_column_does_not_open_there() -> None:
    keys = ring(k1=new_key())
    sealed = keys.seal(CITIZEN_ID, purpose="intake.dossiers.applicant")
    with pytest.raises(SealError, match="does not open"):
        keys.open(sealed, purpose="notify.contacts.phone")


def test_after_rotation_old_and_new_values_open_and_reseal_moves_old_ones() -> None:
    old = new_key()
    before = ring(k1=old)
    old_value = before.seal(EMAIL, purpose="p")
    after = ring(k2=new_key(), k1=old)
    new_value = after.seal(EMAIL, purpose="p")
    assert after.key_id(new_value) == "k2" and after.key_id(old_value) == "k1"
    assert after.open(old_value, purpose="p") == after.open(new_value, purpose="p") == EMAIL
    moved = after.reseal(old_value, purpose="p")
    assert after.key_id(moved) == "k2" and after.open(moved, purpose="p") == EMAIL
    assert after.reseal(new_value, purpose="p") == new_value
    with pytest.raises(SealError, match="no longer holds"):
        ring(k2=new_key()).open(old_value, purpose="p")  # k1 left the ring


def test_the_blind_index_matches_a_value_however_it_is_written_and_only_under_its_key() -> None:
    index_key = new_key()
    keys = KeyRing.from_text(ring_text({"k1": new_key()}), index_key)
    assert keys.index("+84977123456", kind="phone") == keys.index("0977 123 456", kind="phone")
    assert keys.index(" 079188123456", kind="citizen_id") == keys.index("079188123456", kind="citizen_id")
    assert keys.index("079188123456", kind="citizen_id") != keys.index("079188123456", kind="phone")
    other = KeyRing.from_text(ring_text({"k1": new_key()}), new_key())
    assert other.index(PHONE, kind="phone") != keys.index(PHONE, kind="phone")
    assert PHONE not in (keys.index(PHONE, kind="phone") or "")
    with pytest.raises(SealError, match="INDEX_KEY"):
        KeyRing.from_text(ring_text({"k1": new_key()})).index(PHONE, kind="phone")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "no key"), ("k1", "id:base64"), ("k1:***", "not base64"), ("k1:" + new_key()[:20], "32 bytes")],
)
def test_a_ring_that_cannot_be_used_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SealError, match=message):
        KeyRing.from_text(text)


def test_rings_come_from_the_environment_or_a_file_and_none_means_no_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SealError, match="PERSONAL_DATA_KEYS"):
        KeyRing.from_environment({})
    path = tmp_path / "ring"
    path.write_text(ring_text({"f1": new_key()}))
    assert KeyRing.from_environment({"PERSONAL_DATA_KEYS_FILE": str(path)}).active == "f1"


def test_each_service_process_gets_its_own_ring_and_only_intake_the_index_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "rings.json"
    make_keyrings(path, ("intake", "routing", "deadline", "notify"))
    assert set(process_env("intake", path)) == {"PERSONAL_DATA_KEYS", "PERSONAL_DATA_INDEX_KEY", "CONTACT_KEYS"}
    assert set(process_env("notify", path)) == {"PERSONAL_DATA_KEYS", "CONTACT_KEYS"}
    assert set(process_env("routing", path)) == {"PERSONAL_DATA_KEYS"}
    assert process_env("routing", path)["PERSONAL_DATA_KEYS"] != process_env("deadline", path)["PERSONAL_DATA_KEYS"]
    sealed = service_ring("routing", {"PERSONAL_DATA_KEYRINGS_FILE": str(path)}).seal("Nguyễn Văn An", purpose="p")
    assert rotate(path, "routing") == "r2"
    rotated = service_ring("routing", {"PERSONAL_DATA_KEYRINGS_FILE": str(path)})
    assert rotated.active == "r2" and rotated.open(sealed, purpose="p") == "Nguyễn Văn An"


class Applicant(BaseModel):
    citizen_id: str = Field(pattern=r"^\d{12}$")
    phone: str = Field(pattern=r"^0\d{9}$")


def test_an_error_names_the_field_and_the_rule_and_never_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        Applicant(citizen_id=CITIZEN_ID + "9", phone="+84" + PHONE[1:] + "x")
    assert CITIZEN_ID in str(caught.value), "pydantic's own text holds the input"
    text = describe(caught.value)
    assert "citizen_id" in text and "phone" in text and "pattern" in text
    assert CITIZEN_ID not in text and PHONE[1:] not in text
    assert describe(RuntimeError(f"no contact for {EMAIL} or {PHONE}")) == "RuntimeError: no contact for [email] or [phone]"


def test_free_text_is_scrubbed_of_anything_shaped_like_personal_data_and_of_nothing_else() -> None:
    text = f"id {CITIZEN_ID} tel +84977123456 or {PHONE}, mail {EMAIL}"
    assert scrub(text) == "id [citizen-id] tel [phone] or [phone], mail [email]"
    kept = "dossier 000.00.10.H12-261130-0001 event 123e4567-e89b-12d3-a456-426614174000 at 1732999999999 ms"
    assert scrub(kept) == kept


def test_a_dead_letters_copy_keeps_the_messages_shape_without_its_personal_values() -> None:
    raw = json.dumps({"type": "x", "payload": {"applicant": {"name": "Trần Thị Mai", "phone": PHONE}, "step_id": "s1"}})
    copy = json.loads(redact_raw(raw))
    assert copy["payload"]["applicant"] == {"name": "[redacted]", "phone": "[redacted]"} and copy["payload"]["step_id"] == "s1"
    assert redact_raw(f"not json {CITIZEN_ID}") == "not json [citizen-id]"
