"""Intake's pure rules: dossier codes, the catalogue, the lifecycle, submission checks, the receipt."""

from datetime import UTC, datetime

import pytest

from intake.adapters.catalogue_file import load_catalogue
from intake.domain.catalogue import Catalogue
from intake.domain.dossier import dossier_code, mask_name, new_secret, secret_matches
from intake.domain.lifecycle import ALLOWED_FROM, Command, IllegalTransition, State, apply_command, apply_event
from intake.domain.receiving import Receiver, Submission, check_receiver, check_submission
from services.vocabulary import PortalStatus

S = PortalStatus


def test_dossier_code_uses_the_vietnam_date_and_four_digits() -> None:
    # 20:00 UTC on 21/11 is already 22/11 in Vietnam
    assert dossier_code("000.00.00.H30", datetime(2026, 11, 21, 20, 0, tzinfo=UTC), 7) == "000.00.00.H30-261122-0007"
    with pytest.raises(ValueError):
        dossier_code("000.00.00.H30", datetime(2026, 11, 21, tzinfo=UTC), 10000)


def test_sample_catalogue_routes_the_birth_group_in_parallel_after_civil_status() -> None:
    birth = load_catalogue().get("1.001193")
    assert birth is not None and birth.cutoff is not None and birth.fully_online
    assert {s.step_id: s.after for s in birth.steps} == {
        "civil-status": [],
        "residence": ["civil-status"],
        "health-insurance": ["civil-status"],
    }
    assert [s.agency_code for s in birth.route] == ["UBND-XA", "CA-XA", "BHXH"]


def test_sample_catalogue_has_ten_active_procedures_and_a_land_procedure_that_waits_for_tax() -> None:
    catalogue = load_catalogue()
    assert len([p for p in catalogue.procedures if p.active]) >= 10
    land = [p for p in catalogue.procedures if p.field == "DD"]
    assert land and any(step.awaits_payment for step in land[0].steps)
    assert any(fee.collected == "on_notice" and fee.amount_vnd is None for fee in land[0].fees)
    # what travels in the event is the contract's RouteStep, without catalogue-only fields
    assert "awaits_payment" not in land[0].route[1].model_dump()


def test_a_catalogue_with_a_step_following_an_unknown_step_is_refused_at_start() -> None:
    raw = load_catalogue().model_dump(mode="json")
    raw["procedures"][0]["steps"][1]["after"] = ["nowhere"]
    with pytest.raises(ValueError, match="unknown or later steps"):
        Catalogue.model_validate(raw)
    raw = load_catalogue().model_dump(mode="json")
    raw["procedures"][0]["field"] = "XX"
    with pytest.raises(ValueError, match="unknown field"):
        Catalogue.model_validate(raw)


def _submission(**overrides: object) -> Submission:
    base = dict(
        procedure_code="1.001193",
        channel=1,
        receiving_unit=None,
        document_codes=["birth-certificate", "interlinked-form"],
        applicant_kind="citizen",
        citizen_id="079190001234",
        tax_code=None,
        phone="0912345678",
        email=None,
        notify_channels=["sms"],
    )
    return Submission(**{**base, **overrides})  # type: ignore[arg-type]


def test_submission_check_names_every_missing_document_and_identity_field_at_once() -> None:
    catalogue = load_catalogue()
    procedure, errors = check_submission(catalogue, _submission())
    assert procedure is not None and errors == []

    _, errors = check_submission(
        catalogue,
        _submission(
            document_codes=["interlinked-form", "passport"], citizen_id=None, phone=None, notify_channels=["sms", "email"]
        ),
    )
    assert sorted((e.field, e.code) for e in errors) == [
        ("applicant.citizen_id", "missing"),
        ("applicant.email", "missing"),
        ("applicant.phone", "missing"),
        ("documents", "missing_document"),
        ("documents.1.code", "unknown_document"),
    ]
    _, errors = check_submission(catalogue, _submission(procedure_code="1.001612", document_codes=["registration-form"]))
    assert [(e.field, e.code) for e in errors] == [("applicant.tax_code", "missing")]
    _, errors = check_submission(catalogue, _submission(procedure_code="1.003583"))
    assert [(e.field, e.code) for e in errors] == [("procedure_code", "inactive_procedure")]
    _, errors = check_submission(
        catalogue, _submission(procedure_code="2.000815", channel=2, document_codes=["original", "copy"])
    )
    assert [(e.field, e.code) for e in errors] == [("channel", "channel_not_offered")]


def test_a_counter_officer_receives_at_their_units_by_default_the_first() -> None:
    two_units = Receiver(units=("000.01.30.H30", "000.00.00.H30"))
    assert check_receiver(two_units, 1, None) == ("000.01.30.H30", [])
    assert check_receiver(two_units, 3, "000.00.00.H30") == ("000.00.00.H30", [])
    _, errors = check_receiver(Receiver(units=("000.01.30.H30",)), 1, "000.00.00.H30")
    assert [(e.field, e.code) for e in errors] == [("receiving_unit", "not_your_unit")]
    _, errors = check_receiver(Receiver(), 1, None)  # an officer in no unit's group receives nowhere
    assert [(e.field, e.code) for e in errors] == [("receiving_unit", "no_unit")]


def test_the_province_receives_anywhere_and_the_portal_only_online() -> None:
    assert check_receiver(Receiver(anywhere=True), 1, None) == (None, [])  # the catalogue's first unit
    assert check_receiver(Receiver(anywhere=True), 3, "000.01.30.H30") == ("000.01.30.H30", [])
    portal = Receiver(anywhere=True, online_only=True)
    assert check_receiver(portal, 2, None) == (None, [])
    for channel in (1, 3):
        _, errors = check_receiver(portal, channel, None)
        assert [(e.field, e.code) for e in errors] == [("channel", "channel_not_allowed")]


def test_the_receipt_secret_matches_as_a_citizen_types_it() -> None:
    assert secret_matches("7KQ2MZ4P", " 7kq2mz4p ") and not secret_matches("7KQ2MZ4P", "7KQ2MZ4Q")


def test_counter_commands_are_legal_only_from_their_statuses() -> None:
    for command, allowed in ALLOWED_FROM.items():
        for status in PortalStatus:
            state = State(status, S.IN_PROGRESS if status in (S.SUPPLEMENT_REQUESTED,) else None)
            if status in allowed:
                apply_command(state, command)
            else:
                with pytest.raises(IllegalTransition):
                    apply_command(state, command)
    with pytest.raises(IllegalTransition):
        apply_command(State(S.DELIVERED, rated=True), Command.RATE)


def test_a_supplement_resumes_into_the_status_the_dossier_was_paused_from() -> None:
    at_counter = apply_command(State(S.ACCEPTED), Command.REQUEST_SUPPLEMENT)
    assert at_counter == State(S.SUPPLEMENT_REQUESTED, S.ACCEPTED)
    assert apply_command(at_counter, Command.RECEIVE_SUPPLEMENT).status is S.ACCEPTED
    # routing assigned a step meanwhile: the supplement resumes into "being handled"
    moved_on = apply_event(at_counter, "routing.step_assigned")
    assert apply_command(moved_on, Command.RECEIVE_SUPPLEMENT).status is S.IN_PROGRESS
    by_agency = apply_event(State(S.IN_PROGRESS), "dossier.supplement_requested")
    assert apply_command(by_agency, Command.RECEIVE_SUPPLEMENT).status is S.IN_PROGRESS


def test_other_services_events_move_the_status_but_never_reopen_a_closed_dossier() -> None:
    state = State(S.ACCEPTED)
    for event_type, expected in [
        ("routing.step_assigned", S.IN_PROGRESS),
        ("routing.fee_requested", S.AWAITING_PAYMENT),
        ("routing.fee_paid", S.IN_PROGRESS),
        ("routing.handling_stopped", S.STOPPED),
        ("routing.handling_resumed", S.IN_PROGRESS),
        ("routing.route_completed", S.RESULT_READY),
    ]:
        state = apply_event(state, event_type)
        assert state.status is expected, event_type
    assert apply_event(State(S.WITHDRAWN), "routing.route_completed").status is S.WITHDRAWN
    assert apply_event(State(S.IN_PROGRESS), "dossier.refused").status is S.REFUSED
    assert apply_event(State(S.IN_PROGRESS), "notify.notice_sent").status is S.IN_PROGRESS


def test_masked_name_and_secret_are_fit_for_paper() -> None:
    assert mask_name("Nguyễn Thị Lan") == "N***** T** L**"
    secret = new_secret()
    assert len(secret) == 8 and not set(secret) & set("01ILO")


def test_receipt_html_carries_the_code_as_a_qr_code() -> None:
    from intake.adapters.receipt import qr_svg

    svg = qr_svg("000.00.00.H30-261122-0001")
    assert svg.startswith("<svg") and "path" in svg


def test_budgets_may_be_written_in_working_days() -> None:
    land = load_catalogue().get("1.004193")
    assert land is not None and land.budget_hours == 80 and land.steps[1].budget_hours == 24
    assert sum(s.budget_hours for s in land.steps) == land.budget_hours


def test_openapi_gives_every_request_body_an_example_and_every_route_a_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.personal_data.keys import new_key
    from services.runtime import build_app

    # the runtime refuses to start without its key rings: personal data is never stored in clear
    monkeypatch.setenv("PERSONAL_DATA_KEYS", f"i1:{new_key()}")
    monkeypatch.setenv("PERSONAL_DATA_INDEX_KEY", new_key())
    monkeypatch.setenv("CONTACT_KEYS", f"c1:{new_key()}")

    settings = IntakeSettings(service_name="intake", OIDC_ISSUER="http://127.0.0.1:9/realms/motcua")
    document = build_app(definition, settings).openapi()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path}"
            body = operation.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert schemas[ref].get("examples"), f"{method} {path}: {ref} has no example"
