"""Intake's wiring: settings, catalogue (validated here, so a bad file stops the start), the unit
of work over its repository and outbox, and the service's routes, consumers and workers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.catalogue_file import load_catalogue
from intake.adapters.contacts import OutboxContacts
from intake.adapters.lgsp_clients import load_clients
from intake.adapters.repository import (
    RETAIN_APPLICANTS,
    RETAIN_IDEMPOTENCY_RESPONSES,
    RETAIN_NONCE_RESPONSES,
    IntakeRepository,
)
from intake.adapters.tables import (
    APPLICANT_PURPOSE,
    NAME_PURPOSE,
    NONCE_RESPONSE_PURPOSE,
    RESPONSE_PURPOSE,
    messaging,
)
from intake.application.lookup import LookupLimit
from intake.application.ports import IntakeWork
from intake.entrypoints import api, catalogue, consumers, lgsp, lifecycle, lookup, personal_data, workers
from intake.settings import IntakeSettings
from services.calendar import working_calendar
from services.events.topics import stage_topic
from services.personal_data.retention import RetentionRule
from services.personal_data.rings import contact_ring
from services.personal_data.rotation import SealedColumn
from services.runtime import Runtime, ServiceDefinition
from services.unit_of_work import Transactions


class Intake:
    """What intake's routes, consumers and workers are given; built once per process."""

    def __init__(self, runtime: Runtime[IntakeSettings, Intake]) -> None:
        self.settings = settings = runtime.settings
        self.catalogue = load_catalogue(settings.catalogue_path)
        self.calendar = working_calendar()
        self.lgsp_clients = load_clients(settings.lgsp_clients_file)
        self.lookup_limit = LookupLimit(settings.lookup_rate_limit, settings.lookup_rate_window_s)
        self.keys = keys = runtime.keys
        contacts = contact_ring("intake")
        contacts_topic = stage_topic(settings.topic_prefix, "contacts")
        outbox = runtime.outbox

        def bind(session: AsyncSession) -> IntakeWork:
            return IntakeWork(
                IntakeRepository(session, keys),
                outbox.bind(session),
                runtime.audit(session),
                OutboxContacts(outbox, session, contacts, contacts_topic),
            )

        self.uow = Transactions(runtime.sessionmaker, bind)


def retention(settings: IntakeSettings) -> list[RetentionRule]:
    """How long intake keeps personal data (Decree 13/2023): an applicant some months after the
    procedure ended; the first answers of Idempotency-Keys and LGSP nonces a few days."""
    applicants = timedelta(days=settings.retention_applicant_days)
    answers = timedelta(days=settings.retention_idempotency_days)
    return [
        RetentionRule("applicants", applicants, RETAIN_APPLICANTS),
        RetentionRule("idempotency_responses", answers, RETAIN_IDEMPOTENCY_RESPONSES),
        RetentionRule("inbound_nonce_responses", answers, RETAIN_NONCE_RESPONSES),
    ]


SEALED_COLUMNS = [
    SealedColumn("intake.dossiers", "id", "applicant_sealed", APPLICANT_PURPOSE),
    SealedColumn("intake.dossiers", "id", "applicant_name", NAME_PURPOSE),
    SealedColumn("intake.idempotency_keys", "key", "response", RESPONSE_PURPOSE),
    # one key column is asked for: the nonce's two, as one text
    SealedColumn("intake.inbound_nonces", "client_id || '|' || nonce", "response", NONCE_RESPONSE_PURPOSE),
]

definition = ServiceDefinition(
    name="intake",
    title="MotCua intake service",
    description=(
        "Tiếp nhận hồ sơ: receives dossiers at the counter, online and by post; issues the receipt and appointment (form 1); "
        "supplement requests (form 2), refusals (form 3), withdrawals, results returned, ratings; "
        "the citizen look-up and staff search; dossiers filed elsewhere, posted through the LGSP (signed)."
    ),
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=IntakeSettings,
    wire=Intake,
    subscriptions=consumers.subscriptions,
    routers=[api.router, lifecycle.router, lookup.router, catalogue.router, lgsp.router, personal_data.router],
    workers=(workers.housekeeping,),
    sealed_columns=SEALED_COLUMNS,
    retention=retention,
)
