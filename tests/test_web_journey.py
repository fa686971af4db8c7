"""One birth-registration group dossier through the whole system, in Chromium, every act by a
person signed in through Keycloak: the counter officer receives it and prints the receipt; the
citizen opens the receipt's QR code on a phone and watches each status; the commune's People's
Committee, the commune police and social insurance complete their steps, the police asking for a
supplement that the counter records; the result is returned and the citizen rates; the leader's
statistics count the dossier and the .xlsx export holds the same numbers as the page."""

from __future__ import annotations

import io
import re

import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect

from conftest import H30
from tests.browser import assert_usable
from tests.conftest import Console, Screenshots, System, eventually
from tests.test_web_counter import receive_through_the_form
from tests.test_web_reports import H30_NAME, page_figures, report, row_of, this_month
from web.domain.reports import COLUMNS


def qr_link(page: Page) -> str:
    """What a phone's camera reads from the receipt's QR code."""
    image = Image.open(io.BytesIO(page.locator(".qr svg").screenshot()))
    found = [code.text for code in zxingcpp.read_barcodes(image)]
    assert len(found) == 1, found
    return found[0]


def citizen_sees(page: Page, link: str, sentence: str, shot: Screenshots, name: str) -> None:
    page.goto(link)
    expect(page.locator(".status-sentence")).to_have_text(sentence)
    assert_usable(page)
    shot(page, f"citizen: {name}")


def step_page(console: Console, who: str, code: str, dossier_id: str, step_id: str) -> Page:
    """The agency officer finds the step in their inbox by the dossier's code and opens it."""
    page = console.page()
    console.sign_in(page, who, "/xu-ly")
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator(f'tr[data-step="{dossier_id}/{step_id}"]')).to_be_visible()
    assert_usable(page)
    page.locator(f'tr[data-step="{dossier_id}/{step_id}"]').get_by_role("link").first.click()
    expect(page.locator(".step-state")).to_be_visible()
    assert_usable(page)
    return page


def take_on(page: Page) -> None:
    page.get_by_role("button", name="Tiếp nhận").click()
    expect(page.locator(".step-state")).to_have_text("Đang xử lý")


def complete(page: Page, documents: str) -> None:
    page.locator("summary", has_text="Hoàn thành, chuyển kết quả").click()
    page.get_by_label("Giấy tờ kết quả").fill(documents)
    page.get_by_role("button", name="Hoàn thành, chuyển kết quả").click()
    expect(page.locator(".step-state")).to_have_text("Đã xử lý xong")


def step_state(system: System, dossier_id: str, step_id: str) -> str | None:
    route = system.get("routing", f"/dossiers/{dossier_id}/route")
    return next((s["state"] for s in route["steps"] if s["step_id"] == step_id), None) if route else None


def test_a_birth_registration_dossier_from_the_counter_through_the_agencies_to_the_citizens_rating_and_the_leaders_report(
    system: System, console: Console, shot: Screenshots
) -> None:
    # the unit's figures before: other tests of the session file dossiers at the same unit
    def resolved(row: dict | None) -> int:
        return row["early"] + row["on_time"] + row["late"] if row else 0

    before = row_of(report(system, "leader", this_month()), H30)

    # the counter officer receives the dossier and prints the receipt
    counter = console.page()
    console.sign_in(counter, "counter", "/tiep-nhan")
    path = receive_through_the_form(counter, shot)
    dossier_id = path.rsplit("/", 1)[-1]
    code = re.search(r"Mã hồ sơ: (\S+)", counter.locator("main").inner_text()).group(1)
    assert_usable(counter)
    link = qr_link(counter)
    assert link.startswith(f"{console.url}/tra-cuu?ma=")
    pdf = counter.request.get(f"{console.url}{path}/bien-nhan.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF-")

    # the citizen scans the QR code with a phone
    citizen = console.page(phone=True)
    eventually(lambda: step_state(system, dossier_id, "civil-status") == "assigned", what="the first step assigned")
    citizen_sees(citizen, link, "Hồ sơ đang được giải quyết.", shot, "received")
    expect(citizen.locator(".appointment")).to_contain_text(re.compile(r"\d\d:\d\d \d\d/\d\d/20\d\d"))

    # the commune's civil-status officer
    ubnd = step_page(console, "specialist", code, dossier_id, "civil-status")
    take_on(ubnd)
    complete(ubnd, "Trích lục khai sinh số 201/2026")
    shot(ubnd, "civil status done")

    # the commune police ask for a supplement
    eventually(lambda: step_state(system, dossier_id, "residence") == "assigned", what="the residence step assigned")
    police = step_page(console, "specialist_ca", code, dossier_id, "residence")
    take_on(police)
    police.locator("summary", has_text="Yêu cầu bổ sung hồ sơ").click()
    police.get_by_label("Các giấy tờ cần bổ sung").fill("Bản sao sổ hộ khẩu của người mẹ")
    police.get_by_role("button", name="Yêu cầu bổ sung hồ sơ").click()
    expect(police.locator(".flash")).to_be_visible()
    shot(police, "police ask for a supplement")
    eventually(lambda: system.get("intake", f"/dossiers/{dossier_id}")["status"] == 5, what="status 5 at intake")
    citizen_sees(citizen, link, "Hồ sơ cần bổ sung giấy tờ.", shot, "supplement asked")
    expect(citizen.locator(".missing li")).to_have_text(["Bản sao sổ hộ khẩu của người mẹ"])

    # the citizen brings it to the counter, which records it
    counter.goto(f"{console.url}{path}")
    counter.locator("summary", has_text="Nhận hồ sơ bổ sung").click()
    counter.get_by_label("Giấy tờ công dân đã nộp bổ sung (mỗi giấy tờ một dòng)").fill("Bản sao sổ hộ khẩu của người mẹ")
    counter.get_by_role("button", name="Nhận hồ sơ bổ sung").click()
    expect(counter.locator(".flash")).to_contain_text("Đã ghi nhận hồ sơ bổ sung")
    shot(counter, "supplement recorded")
    eventually(lambda: system.get("intake", f"/dossiers/{dossier_id}")["status"] == 4, what="handling again")
    citizen_sees(citizen, link, "Hồ sơ đang được giải quyết.", shot, "handled again")

    # the police and social insurance complete their steps
    eventually(lambda: step_state(system, dossier_id, "residence") == "accepted", what="the residence step resumed")
    police.reload()
    complete(police, "Xác nhận đăng ký thường trú")
    insurance = step_page(console, "specialist_b", code, dossier_id, "health-insurance")
    take_on(insurance)
    complete(insurance, "Thẻ bảo hiểm y tế của trẻ")
    shot(insurance, "health insurance done")
    eventually(lambda: system.get("intake", f"/dossiers/{dossier_id}")["status"] == 9, what="the result ready")
    citizen_sees(citizen, link, "Hồ sơ đã có kết quả.", shot, "result ready")

    # the control sheet (form 5) names every handover between the agencies, with the officers
    counter.goto(f"{console.url}{path}/phieu-kiem-soat")
    sheet = counter.locator("main")
    expect(sheet).to_contain_text("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ")
    for agency in ("UBND xã (hộ tịch)", "Công an xã (cư trú)", "Bảo hiểm xã hội"):
        expect(sheet).to_contain_text(agency)
    expect(sheet).to_contain_text(console.identities.officers["specialist_ca"].name)
    expect(sheet).not_to_contain_text("routing-service")
    shot(counter, "form 5")

    # the counter returns the result; the citizen rates
    counter.goto(f"{console.url}{path}")
    counter.locator("summary", has_text="Trả kết quả").click()
    counter.get_by_role("button", name="Trả kết quả").click()
    expect(counter.locator(".flash")).to_contain_text("Đã ghi nhận trả kết quả")
    shot(counter, "result returned")
    citizen_sees(citizen, link, "Bạn đã nhận kết quả giải quyết hồ sơ.", shot, "result returned")
    citizen.get_by_label("Hài lòng", exact=True).check()
    citizen.get_by_role("button", name="Gửi đánh giá").click()
    expect(citizen.get_by_role("status")).to_contain_text("Cảm ơn bạn đã đánh giá.")
    shot(citizen, "rated")
    timeline = system.get("intake", f"/dossiers/{dossier_id}")["timeline"]
    assert any("hài lòng" in str(entry).lower() for entry in timeline)

    # the leader's statistics count it, and the workbook they download holds the page's numbers
    def counted() -> dict | None:
        row = row_of(report(system, "leader", this_month()), H30)
        return row if resolved(row) == resolved(before) + 1 else None

    after = eventually(counted, what="the on-time report counting the resolved dossier")
    assert after["received_new"] == (before["received_new"] if before else 0) + 1
    leader = console.page()
    console.sign_in(leader, "leader", "/thong-ke")
    expect(leader.locator(f'#report-table tr[data-key="{H30}"] th')).to_contain_text(H30_NAME)
    shown = page_figures(leader, H30)
    assert shown["received_new"] == str(after["received_new"])
    assert sum(int(shown[c]) for c in ("resolved_early", "resolved_on_time", "resolved_late")) == resolved(after)
    assert_usable(leader)
    shot(leader, "leader's report")
    with leader.expect_download() as download:
        leader.get_by_role("link", name="Tải về Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    line = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == H30)
    for i, column in enumerate(COLUMNS):
        value = sheet.cell(line, 3 + i).value
        if column.kind == "rate":
            assert f"{value * 100:.1f}".replace(".", ",") + " %" == shown[column.key], column.key
        else:
            assert str(value) == shown[column.key], (column.key, value, shown[column.key])
