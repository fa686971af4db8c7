"""The console/file sink: where notices go when no SMS gateway or mail server is configured
(`make run`, tests). One JSON line per delivery in a file, and a readable line on stdout that says
a notice went out without repeating its text: stdout ends up in the service's log, and a notice
of receipt holds the look-up secret.

The sink records every delivery it is handed, a repeat of the same idempotency id included: it
drops nothing of its own accord, so a notice that notify hands over twice shows up twice (the
fault tests count the lines). Its file is also the gateway's record: asked whether it already took
an idempotency id (for a notice in doubt after a crash), it answers from the lines written."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from notify.application.ports import Acceptance, Outcome, Outgoing


class ConsoleSink:
    def __init__(self, path: Path, echo: bool = True) -> None:
        self.path = path
        self.echo = echo

    def send(
        self,
        *,
        notice_id: str,
        idempotency_id: str,
        dossier_id: str,
        trigger: str,
        channel: str,
        recipient_masked: str,
        body: str,
        subject: str | None = None,
        attachment_name: str | None = None,
    ) -> None:
        """Record one delivery: a line appended in a single write, so a process killed meanwhile
        leaves the whole line or none of it (replicas may share the file)."""
        line = {
            "notice_id": notice_id,
            "idempotency_id": idempotency_id,
            "dossier_id": dossier_id,
            "trigger": trigger,
            "at": datetime.now(UTC).isoformat(),
            "channel": channel,
            "to": recipient_masked,
            "subject": subject,
            "body": body,
            "attachment": attachment_name,
        }
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        if self.echo:
            shown = subject if subject else f"{len(body)} characters"
            print(f"[notice → {recipient_masked} via {channel}] {shown}, in {self.path}", file=sys.stdout, flush=True)

    def took(self, idempotency_id: str) -> bool:
        """Whether a delivery under this idempotency id is in the file (a status query, as a
        gateway answers one; lines from before the file had `idempotency_id` carry it as `notice_id`)."""
        if not self.path.exists():
            return False
        needle = json.dumps(idempotency_id, ensure_ascii=False)
        with self.path.open(encoding="utf-8") as lines:
            for text in lines:
                if needle not in text:
                    continue
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if line.get("idempotency_id", line.get("notice_id")) == idempotency_id:
                    return True
        return False


class ConsoleChannel:
    """The sink behind the channel interface, for whichever channel has no real transport configured."""

    def __init__(self, sink: ConsoleSink) -> None:
        self.sink = sink

    async def send(self, notice: Outgoing) -> Outcome:
        self.sink.send(
            notice_id=notice.notice_id,
            idempotency_id=notice.idempotency_id,
            dossier_id=notice.dossier_id,
            trigger=notice.trigger,
            channel=notice.channel,
            recipient_masked=notice.recipient_masked,
            body=notice.body,
            subject=notice.subject,
            attachment_name=notice.attachment_name,
        )
        return Outcome.accepted()

    async def already_accepted(self, notice: Outgoing) -> Acceptance:
        return "yes" if await asyncio.to_thread(self.sink.took, notice.idempotency_id) else "no"

    async def close(self) -> None:
        return None
