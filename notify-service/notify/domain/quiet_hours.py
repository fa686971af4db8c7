"""Quiet hours for SMS (pure): no text message at night; what falls inside is held until morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """`"21:00-07:00"` (local time; seconds allowed). Empty means no quiet hours."""
        spec = spec.strip()
        if not spec:
            return None
        start, sep, end = spec.partition("-")
        if not sep:
            raise ValueError(f"quiet hours {spec!r}: expected HH:MM-HH:MM")
        quiet = cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if quiet.start == quiet.end:
            raise ValueError(f"quiet hours {spec!r}: start and end are the same")
        return quiet

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight

    def release_at(self, now: datetime, tz: tzinfo) -> datetime | None:
        """When a message due at `now` may go out: None if now is outside quiet hours, else the end of them."""
        local = now.astimezone(tz)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        release = local.replace(hour=self.end.hour, minute=self.end.minute, second=self.end.second, microsecond=0)
        if release <= local:
            release += timedelta(days=1)
        return release
