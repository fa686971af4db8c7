"""Masked recipients in the delivery log; the console sink delivers each idempotency id once."""

import json
from pathlib import Path

import pytest

from notify.adapters.console_sink import ConsoleChannel, ConsoleSink
from notify.application.ports import Outgoing
from notify.domain.policy import mask


def test_recipients_are_masked() -> None:
    assert mask("0912345678") == "091****678"
    assert mask("binh.tran@example.vn") == "b***@example.vn"


async def test_console_sink_delivers_a_notice_id_once_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "notices.jsonl"
    args = {"notice_id": "n-1", "dossier_id": "d-1", "channel": "console", "recipient_masked": "091****678", "body": "Hồ sơ"}
    assert await ConsoleSink(path, echo=False).send(**args) is True
    assert await ConsoleSink(path, echo=False).send(**args) is False  # a new process, as after a crash
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["notice_id"] for line in lines] == ["n-1"]


async def test_console_channel_accepts_a_resent_notice_under_its_new_idempotency_id(tmp_path: Path) -> None:
    path = tmp_path / "notices.jsonl"
    channel = ConsoleChannel(ConsoleSink(path, echo=False))
    base = dict(
        notice_id="n-1",
        dossier_id="d-1",
        channel="email",
        recipient="a@b.vn",
        recipient_masked="a***@b.vn",
        body="x",
        subject="S",
    )
    for idem in ("n-1", "n-1", "n-1.r1"):
        assert (await channel.send(Outgoing(idempotency_id=idem, **base))).status == "accepted"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["notice_id"] for line in lines] == ["n-1", "n-1.r1"]
    assert lines[0]["subject"] == "S"


async def test_the_console_sink_says_on_stdout_that_a_notice_went_out_without_its_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notices.jsonl"
    body = "Ho so 000.00.00.H30-261122-0001 da tiep nhan. Ma tra cuu: 7KQ2MZ4P."
    args = {"notice_id": "n-2", "dossier_id": "d-2", "channel": "sms", "recipient_masked": "091****678", "body": body}
    assert await ConsoleSink(path).send(**args) is True
    shown = capsys.readouterr().out
    assert "091****678 via sms" in shown and "7KQ2MZ4P" not in shown  # stdout is the service's log
    assert json.loads(path.read_text(encoding="utf-8"))["body"] == body  # the sink itself is the delivery
