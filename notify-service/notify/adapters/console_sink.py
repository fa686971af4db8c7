"""The console/file sink: where notices go when no SMS gateway or mail server is configured
(`make run`, tests). One JSON line per notice in a file, and a readable line on stdout that says
a notice went out without repeating its text: stdout ends up in the service's log, and a notice
of receipt holds the look-up secret. Like a real gateway that takes an idempotency id, it accepts
a notice id only once."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from notify.application.ports import Outcome, Outgoing


class ConsoleSink:
    def __init__(self, path: Path, echo: bool = True) -> None:
        self.path = path
        self.echo = echo
        self._seen: set[str] | None = None

    def _load(self) -> set[str]:
        if self._seen is None:
            self._seen = set()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        self._seen.add(json.loads(line)["notice_id"])
                    except (ValueError, KeyError):
                        continue  # a line cut short by a crash
        return self._seen

    async def send(
        self,
        *,
        notice_id: str,
        dossier_id: str,
        channel: str,
        recipient_masked: str,
        body: str,
        subject: str | None = None,
        attachment_name: str | None = None,
    ) -> bool:
        """Deliver once; returns False when this notice id was already delivered."""
        seen = self._load()
        if notice_id in seen:
            return False
        line = {
            "notice_id": notice_id,
            "dossier_id": dossier_id,
            "at": datetime.now(UTC).isoformat(),
            "channel": channel,
            "to": recipient_masked,
            "subject": subject,
            "body": body,
            "attachment": attachment_name,
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        seen.add(notice_id)
        if self.echo:
            shown = subject if subject else f"{len(body)} characters"
            print(f"[notice → {recipient_masked} via {channel}] {shown}, in {self.path}", file=sys.stdout, flush=True)
        return True


class ConsoleChannel:
    """The sink behind the channel interface, for whichever channel has no real transport configured."""

    def __init__(self, sink: ConsoleSink) -> None:
        self.sink = sink

    async def send(self, notice: Outgoing) -> Outcome:
        await self.sink.send(
            notice_id=notice.idempotency_id,
            dossier_id=notice.dossier_id,
            channel=notice.channel,
            recipient_masked=notice.recipient_masked,
            body=notice.body,
            subject=notice.subject,
            attachment_name=notice.attachment_name,
        )
        return Outcome.accepted()

    async def close(self) -> None:
        return None
