"""The console/file sink: where notices go when no SMS gateway or mail server is configured
(`make run`, tests). One JSON line per notice in a file, and a readable line on stdout.
Like a real gateway that takes an idempotency id, it accepts a notice id only once."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path


class ConsoleSink:
    def __init__(self, path: Path, echo: bool = True) -> None:
        self.path = path
        self.echo = echo
        self._seen: set[str] | None = None

    def _load(self) -> set[str]:
        if self._seen is None:
            self._seen = set()
            if self.path.exists():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        self._seen.add(json.loads(line)["notice_id"])
                    except (ValueError, KeyError):
                        continue  # a line cut short by a crash
        return self._seen

    async def send(self, *, notice_id: str, dossier_id: str, channel: str, recipient_masked: str, body: str) -> bool:
        """Deliver once; returns False when this notice id was already delivered."""
        seen = self._load()
        if notice_id in seen:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "notice_id": notice_id,
            "dossier_id": dossier_id,
            "at": datetime.now(UTC).isoformat(),
            "channel": channel,
            "to": recipient_masked,
            "body": body,
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        seen.add(notice_id)
        if self.echo:
            print(f"[notice → {recipient_masked} via {channel}] {body}", file=sys.stdout, flush=True)
        return True
