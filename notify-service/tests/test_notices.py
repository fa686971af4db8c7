"""Masked recipients in the delivery log; the console sink records every delivery it is handed."""

import json
from pathlib import Path

import pytest

from notify.adapters.console_sink import ConsoleChannel, ConsoleSink
from notify.application.ports import Outgoing
from notify.domain.policy import mask

RECEIPT = {
    "notice_id": "n-1",
    "idempotency_id": "n-1",
    "dossier_id": "d-1",
    "trigger": "dossier.received",
    "channel": "sms",
    "recipient_masked": "091****678",
    "body": "Hồ sơ",
}


def test_recipients_are_masked() -> None:
    assert mask("0912345678") == "091****678"
    assert mask("binh.tran@example.vn") == "b***@example.vn"


def test_the_console_sink_records_a_notice_handed_twice_twice_even_after_a_restart(tmp_path: Path) -> None:
    # The sink drops nothing of its own accord: a notice notify hands over twice is seen twice.
    path = tmp_path / "notices.jsonl"
    ConsoleSink(path, echo=False).send(**RECEIPT)
    ConsoleSink(path, echo=False).send(**RECEIPT)  # a new process, as after a crash
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["notice_id"], line["idempotency_id"], line["trigger"]) for line in lines] == [
        ("n-1", "n-1", "dossier.received")
    ] * 2


async def test_the_console_channel_writes_each_send_with_its_trigger_and_idempotency_id(tmp_path: Path) -> None:
    path = tmp_path / "notices.jsonl"
    channel = ConsoleChannel(ConsoleSink(path, echo=False))
    base = dict(
        notice_id="n-1",
        dossier_id="d-1",
        trigger="routing.route_completed",
        channel="email",
        recipient="a@b.vn",
        recipient_masked="a***@b.vn",
        body="x",
        subject="S",
    )
    for idem in ("n-1", "n-1.r1"):
        assert (await channel.send(Outgoing(idempotency_id=idem, **base))).status == "accepted"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["notice_id"], line["idempotency_id"]) for line in lines] == [("n-1", "n-1"), ("n-1", "n-1.r1")]
    assert {(line["trigger"], line["channel"], line["to"], line["subject"]) for line in lines} == {
        ("routing.route_completed", "email", "a***@b.vn", "S")
    }


def test_the_console_sink_says_on_stdout_that_a_notice_went_out_without_its_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notices.jsonl"
    body = "Ho so 000.00.00.H30-261122-0001 da tiep nhan. Ma tra cuu: 7KQ2MZ4P."
    ConsoleSink(path).send(**{**RECEIPT, "notice_id": "n-2", "idempotency_id": "n-2", "body": body})
    shown = capsys.readouterr().out
    assert "091****678 via sms" in shown and "7KQ2MZ4P" not in shown  # stdout is the service's log
    assert json.loads(path.read_text(encoding="utf-8"))["body"] == body  # the sink itself is the delivery
