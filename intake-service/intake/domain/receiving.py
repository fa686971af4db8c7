"""Checking a dossier against its procedure before it is received (kiểm tra thành phần hồ sơ), and
who may receive it where.

Pure: returns every problem at once, each naming the field, so the counter officer (or the
portal) can fix them all in one go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intake.domain.catalogue import Catalogue, Procedure


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass(frozen=True)
class Submission:
    procedure_code: str
    channel: int
    receiving_unit: str | None
    document_codes: Sequence[str]
    applicant_kind: str
    citizen_id: str | None
    tax_code: str | None
    phone: str | None
    email: str | None
    notify_channels: Sequence[str]


@dataclass(frozen=True)
class Receiver:
    """Who receives a dossier, as far as the receiving rules care. A counter officer receives at
    the units they serve (`units`); the province administrator, the provincial portal and the
    LGSP at any unit (`anywhere`); the portal only dossiers filed online (`online_only`)."""

    units: tuple[str, ...] = ()
    anywhere: bool = False
    online_only: bool = False


ONLINE = 2  # national channel code: filed online


def check_receiver(receiver: Receiver, channel: int, receiving_unit: str | None) -> tuple[str | None, list[FieldError]]:
    """The receiving unit to record (None: the catalogue's first unit) and what this receiver may
    not do: a counter officer receives at one of their units, by default the first they serve;
    the portal files online dossiers (channel 2) only."""
    errors: list[FieldError] = []
    if receiver.online_only and channel != ONLINE:
        errors.append(FieldError("channel", "the portal files dossiers submitted online (2) only", "channel_not_allowed"))
    if receiver.anywhere:
        return receiving_unit, errors
    if receiving_unit is None:
        if not receiver.units:
            errors.append(FieldError("receiving_unit", "you serve no receiving unit", "no_unit"))
            return None, errors
        return receiver.units[0], errors
    if receiving_unit not in receiver.units:
        errors.append(
            FieldError(
                "receiving_unit",
                f"{receiving_unit!r} is not a unit you receive for ({', '.join(receiver.units) or 'none'})",
                "not_your_unit",
            )
        )
    return receiving_unit, errors


def check_submission(catalogue: Catalogue, submission: Submission) -> tuple[Procedure | None, list[FieldError]]:
    procedure = catalogue.get(submission.procedure_code)
    if procedure is None:
        return None, [
            FieldError(
                "procedure_code",
                f"no procedure {submission.procedure_code!r} in catalogue {catalogue.version}",
                "unknown_procedure",
            )
        ]
    if not procedure.active:
        return None, [FieldError("procedure_code", f"procedure {procedure.code} is no longer active", "inactive_procedure")]
    errors: list[FieldError] = []
    if submission.receiving_unit is not None and catalogue.unit(submission.receiving_unit) is None:
        errors.append(FieldError("receiving_unit", f"unknown receiving unit {submission.receiving_unit!r}", "unknown_unit"))
    if submission.channel not in procedure.channels:
        errors.append(
            FieldError(
                "channel",
                f"procedure {procedure.code} is not received through channel {submission.channel}",
                "channel_not_offered",
            )
        )

    known = {d.code for d in procedure.documents}
    seen: set[str] = set()
    for i, code in enumerate(submission.document_codes):
        if code not in known:
            errors.append(
                FieldError(f"documents.{i}.code", f"{code!r} is not a document of procedure {procedure.code}", "unknown_document")
            )
        elif code in seen:
            errors.append(FieldError(f"documents.{i}.code", f"{code!r} listed twice", "duplicate_document"))
        seen.add(code)
    for document in procedure.required_documents:
        if document.code not in seen:
            errors.append(
                FieldError("documents", f"missing required document {document.code!r}: {document.name}", "missing_document")
            )

    if procedure.business or submission.applicant_kind == "business":
        if not submission.tax_code:
            errors.append(FieldError("applicant.tax_code", "a business applicant needs its tax code", "missing"))
    elif not submission.citizen_id:
        errors.append(FieldError("applicant.citizen_id", "the applicant's 12-digit citizen id is required", "missing"))
    if "sms" in submission.notify_channels and not submission.phone:
        errors.append(FieldError("applicant.phone", "SMS notices need a mobile number", "missing"))
    if "email" in submission.notify_channels and not submission.email:
        errors.append(FieldError("applicant.email", "e-mail notices need an address", "missing"))
    return procedure, errors
