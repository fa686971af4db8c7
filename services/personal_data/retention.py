"""Keeping personal data only as long as its class needs: each service names its rules (what to
erase or redact, once how old), and one job per process applies them on a schedule. Every row it
touches is counted in `/metrics` and written in the service's audit trail, so the province can
show what was erased and when.

A rule's statement is SQL with `$1` the cut-off time and `$2` the most rows to touch in one go; it
returns one row per record it erased or redacted, with the dossier concerned (`dossier_id`, text,
NULL when none) — the job repeats it until it returns fewer than `$2`."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.audit import ACTOR_COLUMNS, actor_values
from services.db import driver_connection
from services.events.envelope import Actor

log = logging.getLogger(__name__)

ERASED = Counter(
    "motcua_personal_data_erased_total",
    "Records of personal data erased or redacted, by data class and why (retention, a citizen's request).",
    ["data_class", "reason"],
)
LAST_RUN = Gauge("motcua_personal_data_retention_last_run_timestamp_seconds", "When the retention job last finished.")


@dataclass(frozen=True)
class RetentionRule:
    data_class: str  # e.g. `contacts`, `notice_texts`, `dead_letter_payloads`
    keep: timedelta
    statement: str
    batch: int = 500


async def enforce(
    sessionmaker: async_sessionmaker[AsyncSession],
    schema: str,
    service: str,
    rules: Sequence[RetentionRule],
    now: datetime,
) -> dict[str, int]:
    """Apply every rule once, each batch in its own transaction with its audit lines; how many
    records each data class lost."""
    done: dict[str, int] = {}
    insert = (
        f"INSERT INTO {schema}.audit_trail ({ACTOR_COLUMNS}, action, dossier_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
    )
    actor = actor_values(Actor.service(service))
    for rule in rules:
        cutoff = now - rule.keep
        total = 0
        while True:
            async with sessionmaker() as session, session.begin():
                conn = await driver_connection(session)
                rows = await conn.fetch(rule.statement, cutoff, rule.batch)
                if rows:
                    detail = json.dumps(
                        {"data_class": rule.data_class, "kept_days": rule.keep.days, "cutoff": cutoff.isoformat()}
                    )
                    per_dossier: dict[str | None, int] = {}
                    for row in rows:
                        per_dossier[row["dossier_id"]] = per_dossier.get(row["dossier_id"], 0) + 1
                    await conn.executemany(
                        insert,
                        [
                            (*actor, "retention:erased", dossier, json.dumps({**json.loads(detail), "records": n}))
                            for dossier, n in per_dossier.items()
                        ],
                    )
            total += len(rows)
            if len(rows) < rule.batch:
                break
        if total:
            ERASED.labels(rule.data_class, "retention").inc(total)
            log.info("retention erased personal data", extra={"fields": {"data_class": rule.data_class, "records": total}})
        done[rule.data_class] = total
    LAST_RUN.set(now.timestamp())
    return done
