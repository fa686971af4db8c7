"""The statistics pages in Chromium: a unit leader reads the on-time report of their unit, switches
the breakdown and the period, follows an overdue count, and downloads the workbook, whose numbers
are the page's; another unit's leader sees only their own unit."""

from __future__ import annotations

import asyncio
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from conftest import H30, PHU_LOC, kafka_options
from services.calendar import WorkingCalendar
from services.events.schemas import ApplicantContact, DossierReceived, RouteStep, StepAssigned
from services.events.topics import stage_topic
from services.vocabulary import VN_TZ
from tests.conftest import BIRTH_GROUP, Console, Screenshots, System, eventually

H30_NAME = "Trung tâm Phục vụ hành chính công tỉnh"
PHU_LOC_NAME = "Trung tâm Phục vụ hành chính công xã Phú Lộc"
COPY = {  # one step, at UBND-XA: a specialist resolves it at once
    "procedure_code": "1.004227",
    "channel": 2,
    "documents": [{"code": "request-form"}],
    "applicant": {"name": "Trần Văn Bình", "citizen_id": "079190005678", "phone": "0912000111", "notify_channels": ["sms"]},
}
COUNTED = ("received_new", "in_progress_not_due", "withdrawn")  # what the dossiers below make non-zero at H30


def today() -> date:
    return datetime.now(VN_TZ).date()


def this_month() -> str:
    return f"from={today().replace(day=1).isoformat()}&to={today().isoformat()}"


def report(system: System, who: str, query: str) -> dict[str, Any]:
    answer = httpx.get(f"{system.url('deadline')}/reports/on-time?{query}", auth=system.identities.auth(who), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def row_of(answer: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((r for r in answer["rows"] if r["key"] == key), None)


def act(system: System, who: str, dossier_id: str, step_id: str, action: str, body: dict[str, Any] | None = None) -> None:
    url = f"{system.url('routing')}/agency/steps/{dossier_id}/{step_id}/{action}"
    answer = httpx.post(url, json=body or {}, headers=system.headers(who), timeout=10)
    assert answer.status_code == 200, (who, action, answer.text)


def step_assigned(system: System, dossier_id: str) -> bool:
    route = system.get("routing", f"/dossiers/{dossier_id}/route")
    return bool(route) and any(s["step_id"] == "civil-status" and s["state"] == "assigned" for s in route["steps"])


async def overdue_at_the_police(system: System) -> str:
    """A dossier received at H30 three weeks ago whose residence step is still at the commune police,
    past its due time: what the deadline service hears, told as intake and routing would have. The
    system cannot be made to wait three weeks, so the events carry the times."""
    calendar = WorkingCalendar()
    received = datetime.combine(today() - timedelta(days=21), time(9, 0), VN_TZ)
    starts = calendar.clock_start(received)
    dossier_id = str(uuid.uuid4())
    code = f"{H30}-{received:%y%m%d}-9{dossier_id[:3]}"
    step = RouteStep(step_id="residence", agency_code="CA-XA", agency_name="Công an xã (cư trú)", budget_hours=16)
    received_event = DossierReceived(
        dossier_code=code,
        procedure_code="1.001193",
        procedure_name="Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        field_code="HT",
        catalogue_version="1",
        receiving_unit=H30,
        channel=1,
        fully_online=False,
        received_at=received,
        clock_starts_at=starts,
        appointment_at=calendar.add_working_hours(starts, 24),
        budget_hours=24,
        resume_rule="keep_elapsed",
        route=[step],
        applicant=ApplicantContact(name="Lý Thị Quá Hạn", phone="0912000999"),
    )
    assigned = StepAssigned(
        step_id="residence", agency_code="CA-XA", agency_name="Công an xã (cư trú)", budget_hours=16, assigned_at=received
    )
    prefix = system.env["TOPIC_PREFIX"]
    producer = AIOKafkaProducer(**kafka_options(system.env))
    await producer.start()
    try:
        for source, event in (("intake", received_event), ("routing", assigned)):
            envelope = event.envelope(dossier_id=dossier_id, producer=source)
            await producer.send_and_wait(stage_topic(prefix, source), envelope.to_bytes(), key=dossier_id.encode())
    finally:
        await producer.stop()
    return code


@pytest.fixture(scope="module")
def dossiers(system: System) -> dict[str, Any]:
    """At H30: two in progress, one withdrawn by the citizen, one resolved; at Phú Lộc: one in progress."""
    running = [system.submit(BIRTH_GROUP)["id"] for _ in range(2)]
    withdrawn = system.submit(BIRTH_GROUP)["id"]
    answer = httpx.post(
        f"{system.url('intake')}/dossiers/{withdrawn}/withdrawal",
        json={"reason": "Công dân đề nghị rút hồ sơ"},
        headers=system.headers("counter"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    resolved = system.submit(COPY)["id"]
    eventually(lambda: step_assigned(system, resolved), what="the copy's step assigned")
    act(system, "specialist", resolved, "civil-status", "accept")
    act(system, "specialist", resolved, "civil-status", "complete", {"result_documents": ["doc://copy/1"]})
    elsewhere = system.submit({**BIRTH_GROUP, "receiving_unit": PHU_LOC})["id"]
    with ThreadPoolExecutor(1) as thread:  # an event loop of its own: the session's may be running here
        overdue_code = thread.submit(asyncio.run, overdue_at_the_police(system)).result()

    def settled() -> dict[str, Any] | None:
        h30 = row_of(report(system, "leader", this_month()), H30)
        phu_loc = row_of(report(system, "leader_b", this_month()), PHU_LOC)
        done = (
            h30
            and h30["in_progress_overdue"] >= 1
            and h30["received_new"] >= 4
            and h30["withdrawn"] >= 1
            and h30["early"] + h30["on_time"] + h30["late"] >= 1
            and h30["in_progress_not_due"] >= 2
            and phu_loc
            and phu_loc["received_new"] >= 1
        )
        return {"h30": h30, "phu_loc": phu_loc} if done else None

    return {
        **eventually(settled, timeout=90, what="the deadline service counting the dossiers"),
        "ids": [*running, elsewhere],
        "overdue_code": overdue_code,
    }


def page_figures(page: Page, key: str) -> dict[str, str]:
    """The figures of one row of the report table, by column key, as shown."""
    cells = page.locator(f'#report-table tr[data-key="{key}"] td')
    return {cells.nth(i).get_attribute("data-col") or "": cells.nth(i).inner_text().strip() for i in range(cells.count())}


def test_a_leader_reads_their_units_report_switches_it_and_downloads_the_same_numbers(
    system: System, console: Console, dossiers: dict[str, Any], shot: Screenshots
) -> None:
    page = console.page()
    console.sign_in(page, "leader", "/thong-ke")
    expect(page.get_by_role("heading", name="Thống kê tình hình giải quyết hồ sơ")).to_be_visible()
    expect(page.locator("#period-from")).to_have_value(today().replace(day=1).strftime("%d/%m/%Y"))
    expect(page.locator("#period-to")).to_have_value(today().strftime("%d/%m/%Y"))
    expect(page.get_by_role("link", name="Tháng này")).to_have_attribute("aria-current", "true")
    row = page.locator(f'#report-table tr[data-key="{H30}"]')
    expect(row.locator("th")).to_contain_text(H30_NAME)
    expect(page.locator(f'#report-table tr[data-key="{PHU_LOC}"]')).to_have_count(0)  # another unit's

    api = row_of(report(system, "leader", this_month()), H30)
    assert api is not None
    shown = page_figures(page, H30)
    for column, field in (
        ("received_new", "received_new"),
        ("carried_over", "carried_over"),
        ("resolved_early", "early"),
        ("resolved_on_time", "on_time"),
        ("resolved_late", "late"),
        ("in_progress_not_due", "in_progress_not_due"),
        ("in_progress_overdue", "in_progress_overdue"),
        ("paused", "paused"),
        ("withdrawn", "withdrawn"),
        ("refused", "refused"),
    ):
        assert shown[column] == str(api[field]), (column, shown[column], api[field])
    assert shown["on_time_rate"] == f"{api['on_time_rate'] * 100:.1f}".replace(".", ",") + " %"
    assert all(int(shown[c]) >= 1 for c in COUNTED)
    expect(page.locator('#report-table tfoot td[data-col="received_new"]')).to_have_text(str(api["received_new"]))
    expect(page.locator("svg.trend circle.point")).not_to_have_count(0)  # the resolved copy's day
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page overflows at 1366px"
    shot(page, "report by unit this month")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert today().strftime("%d/%m/%Y") in sheet["A1"].value
    columns = {sheet.cell(4, c).value or sheet.cell(3, c).value: c for c in range(3, sheet.max_column + 1)}
    line = next(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, 1).value == H30)
    assert sheet.cell(line, 2).value == H30_NAME
    assert sheet.cell(line, columns["Mới tiếp nhận trong kỳ"]).value == int(shown["received_new"])
    assert sheet.cell(line, columns["Công dân rút"]).value == int(shown["withdrawn"])
    assert sheet.cell(line, columns["Chưa đến hạn"]).value == int(shown["in_progress_not_due"])
    assert sheet.cell(sheet.max_row, 2).value == "Tổng cộng"

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Tải về CSV").click()
    raw = open(csv_download.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf") and H30_NAME in raw.decode("utf-8-sig")

    page.locator("#report-by").select_option("channel")
    page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator('#report-table tr[data-key="1"] th')).to_contain_text("Trực tiếp tại Bộ phận Một cửa")
    expect(page.locator('#report-table tr[data-key="2"] th')).to_contain_text("Trực tuyến")
    by_channel = report(system, "leader", f"{this_month()}&by=channel")
    expect(page.locator('#report-table tr[data-key="1"] td[data-col="received_new"]')).to_have_text(
        str(row_of(by_channel, "1")["received_new"])  # type: ignore[index]
    )
    shot(page, "report by channel")

    page.locator("#report-by").select_option("agency")  # no API lists agencies: named from the procedures' steps
    page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator("#report-table thead th.name")).to_have_text("Cơ quan xử lý")
    by_agency = report(system, "leader", f"{this_month()}&by=agency")
    expect(page.locator("#report-table tbody tr")).to_have_count(len(by_agency["rows"]))
    if row_of(by_agency, "UBND-XA"):
        expect(page.locator('#report-table tr[data-key="UBND-XA"] th')).to_contain_text("UBND xã (hộ tịch)")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("columnheader", name="On-time rate")).to_be_visible()
    expect(page.locator("#report-by")).to_have_value("agency")
    shot(page, "report by agency in English")
    page.get_by_role("button", name="Tiếng Việt").click()
    page.locator("#report-by").select_option("channel")
    page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator("#report-table thead th.name")).to_have_text("Kênh nộp hồ sơ")  # the new page, before the next click

    page.get_by_role("link", name="Tháng trước").click()
    last_day = today().replace(day=1) - timedelta(days=1)
    expect(page.locator("#period-from")).to_have_value(last_day.replace(day=1).strftime("%d/%m/%Y"))
    expect(page.locator("#period-to")).to_have_value(last_day.strftime("%d/%m/%Y"))
    expect(page.locator("#report-by")).to_have_value("channel")
    last_month = report(system, "leader", f"from={last_day.replace(day=1).isoformat()}&to={last_day.isoformat()}&by=channel")
    if last_month["rows"]:
        expect(page.locator('#report-table tfoot td[data-col="received_new"]')).to_have_text(
            str(last_month["total"]["received_new"])
        )
    else:
        expect(page.get_by_text("Không có hồ sơ nào trong kỳ này.")).to_be_visible()
    shot(page, "last month")

    # The dossier received three weeks ago and still at the police past its due time: its overdue
    # count leads to the dossier, the step and the agency responsible.
    page.locator("#period-from").fill((today() - timedelta(days=30)).strftime("%d/%m/%Y"))
    page.locator("#period-to").fill(today().strftime("%d/%m/%Y"))
    page.locator("#report-by").select_option("unit")
    page.get_by_role("button", name="Xem thống kê").click()
    overdue = page.locator(f'#report-table tr[data-key="{H30}"] td[data-col="in_progress_overdue"] a')
    expect(overdue).to_be_visible()
    overdue.click()
    expect(page.get_by_role("heading", name=f"Đang giải quyết quá hạn: {H30_NAME}")).to_be_visible()
    late = page.locator("table.late-dossiers tbody tr", has_text=dossiers["overdue_code"])
    expect(late).to_have_count(1)
    expect(late).to_contain_text("Công an xã (cư trú)")
    expect(page.locator("body")).not_to_contain_text("Traceback")
    shot(page, "overdue dossiers")


def test_a_period_ending_before_it_starts_is_told_beside_the_field(console: Console, shot: Screenshots) -> None:
    page = console.page()
    console.sign_in(page, "leader", "/thong-ke")
    page.locator("#period-from").fill("20/11/2026")
    page.locator("#period-to").fill("01/11/2026")
    page.get_by_role("button", name="Xem thống kê").click()
    expect(page.locator("#period-to")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#period-to-error")).to_have_text("Ngày kết thúc không được trước ngày bắt đầu.")
    expect(page.locator("#period-from")).to_have_value("20/11/2026")  # kept as typed
    shot(page, "period refused")


def test_another_units_leader_sees_only_their_unit(
    system: System, console: Console, dossiers: dict[str, Any], shot: Screenshots
) -> None:
    page = console.page(phone=True)
    console.sign_in(page, "leader_b", "/thong-ke")
    expect(page.locator(f'#report-table tr[data-key="{PHU_LOC}"] th')).to_contain_text(PHU_LOC_NAME)
    expect(page.locator(f'#report-table tr[data-key="{H30}"]')).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(H30_NAME)
    api = report(system, "leader_b", this_month())
    expect(page.locator('#report-table tfoot td[data-col="received_new"]')).to_have_text(str(api["total"]["received_new"]))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page overflows on a phone"
    shot(page, "other unit on a phone")


def test_a_counter_officer_is_not_shown_the_statistics(console: Console) -> None:
    page = console.page()
    console.sign_in(page, "counter", "/thong-ke")
    expect(page.get_by_role("heading", name="Không có quyền")).to_be_visible()
