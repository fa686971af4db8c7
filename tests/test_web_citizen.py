"""The citizen's look-up page in Chromium on a phone-size screen, without signing in: the receipt's
link shows the status at once, in a sentence, with the appointment in Vietnam time, in English by
the switch; a wrong secret is told clearly without saying which code was wrong; a supplement
request lists what is missing; once the result is returned, the citizen rates it once."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import BIRTH_GROUP, Console, Screenshots, System, eventually


def received(system: System) -> tuple[dict[str, Any], dict[str, Any]]:
    created = system.submit(BIRTH_GROUP)
    receipt = system.get("intake", f"/dossiers/{created['id']}/receipt")
    assert receipt and receipt["lookup_secret"]
    return created, receipt


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_receipts_link_shows_the_status_on_a_phone(system: System, console: Console, shot: Screenshots) -> None:
    created, receipt = received(system)
    eventually(lambda: (system.get("intake", f"/dossiers/{created['id']}") or {}).get("status") == 4, what="being handled")
    page = console.page(phone=True)
    response = page.goto(f"{console.url}/tra-cuu?ma={created['code']}&ms={receipt['lookup_secret']}")
    assert response is not None and response.status == 200
    assert response.headers["cache-control"] == "no-store"
    expect(page.locator(".status-sentence")).to_have_text("Hồ sơ đang được giải quyết.")
    expect(page.locator(".appointment")).to_contain_text(receipt["appointment_at_local"])
    expect(page.locator(".timeline")).to_contain_text("Đã tiếp nhận")
    assert fits_the_screen(page)
    shot(page, "status on a phone")

    page.get_by_role("button", name="English").click()
    expect(page.locator(".status-sentence")).to_have_text("Your dossier is being handled.")
    expect(page.get_by_text("Appointment for the result")).to_be_visible()
    shot(page, "status in English")


def test_a_wrong_secret_or_code_is_told_without_saying_which(system: System, console: Console, shot: Screenshots) -> None:
    created, receipt = received(system)
    page = console.page(phone=True)
    page.goto(f"{console.url}/tra-cuu?ma={created['code']}")
    expect(page.get_by_label("Mã hồ sơ")).to_have_value(created["code"])
    page.get_by_label("Mã tra cứu").fill("WRONG123")
    page.get_by_role("button", name="Tra cứu").click()
    message = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này. Hãy kiểm tra lại cả hai mã trên giấy tiếp nhận."
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.locator(".status-sentence")).to_have_count(0)
    assert fits_the_screen(page)
    shot(page, "wrong secret")

    page.get_by_label("Mã hồ sơ").fill(created["code"].replace("-0", "-9"))
    page.get_by_label("Mã tra cứu").fill(receipt["lookup_secret"])
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("alert")).to_have_text(message)

    page.get_by_label("Mã hồ sơ").fill("")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_label("Mã hồ sơ")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ma-error")).to_have_text("Hãy nhập mã hồ sơ.")


def test_a_supplement_request_lists_what_is_missing(system: System, console: Console, shot: Screenshots) -> None:
    created, receipt = received(system)
    items = ["Giấy chứng sinh (bản chính)", "Tờ khai ký đủ chữ ký của người đi đăng ký"]
    asked = system.http.post(f"{system.url('intake')}/dossiers/{created['id']}/supplement-requests", json={"items": items})
    assert asked.status_code in (200, 201), asked.text
    page = console.page(phone=True)
    page.goto(f"{console.url}/tra-cuu?ma={created['code']}&ms={receipt['lookup_secret']}")
    expect(page.locator(".status-sentence")).to_have_text("Hồ sơ cần bổ sung giấy tờ.")
    expect(page.locator(".missing li")).to_have_text(items)
    shot(page, "supplement asked")


def test_once_the_result_is_returned_the_citizen_rates_it_once(system: System, console: Console, shot: Screenshots) -> None:
    created, receipt = received(system)
    routing, intake = system.url("routing"), system.url("intake")
    for step in ("civil-status", "residence", "health-insurance"):

        def assigned(step: str = step) -> bool:
            found = system.get("routing", f"/agency/steps/{created['id']}/{step}")
            return bool(found) and found["state"] == "assigned"

        eventually(assigned, timeout=30, what=f"step {step} assigned")
        done = system.http.post(f"{routing}/agency/steps/{created['id']}/{step}/complete", json={"result_documents": [step]})
        assert done.status_code == 200, done.text
    eventually(lambda: (system.get("intake", f"/dossiers/{created['id']}") or {}).get("status") == 9, what="the result ready")
    returned = system.http.post(f"{intake}/dossiers/{created['id']}/result-return", json={"method": "counter"})
    assert returned.status_code in (200, 201), returned.text

    page = console.page(phone=True)
    page.goto(f"{console.url}/tra-cuu?ma={created['code']}&ms={receipt['lookup_secret']}")
    expect(page.locator(".status-sentence")).to_have_text("Bạn đã nhận kết quả giải quyết hồ sơ.")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#score-error")).to_have_text("Hãy chọn một mức đánh giá.")
    page.get_by_label("Hài lòng", exact=True).check()
    page.get_by_label("Góp ý (không bắt buộc)").fill("Cán bộ hướng dẫn tận tình")
    assert fits_the_screen(page)
    shot(page, "rating form")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("status")).to_contain_text("Cảm ơn bạn đã đánh giá.")
    expect(page.get_by_role("button", name="Gửi đánh giá")).to_have_count(0)
    shot(page, "rated")

    page.goto(f"{console.url}/tra-cuu?ma={created['code']}&ms={receipt['lookup_secret']}")
    expect(page.get_by_text("Hồ sơ này đã được đánh giá. Cảm ơn bạn.")).to_be_visible()
    expect(page.get_by_role("button", name="Gửi đánh giá")).to_have_count(0)


def test_a_citizen_looks_up_with_the_keyboard_alone(system: System, console: Console) -> None:
    created, receipt = received(system)
    page = console.page()
    page.goto(f"{console.url}/tra-cuu")
    field = page.get_by_label("Mã hồ sơ")
    for _ in range(12):  # from the top of the page, Tab reaches the code field
        page.keyboard.press("Tab")
        if field.evaluate("e => e === document.activeElement"):
            break
    expect(field).to_be_focused()
    page.keyboard.type(created["code"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mã tra cứu")).to_be_focused()
    page.keyboard.type(receipt["lookup_secret"])
    page.keyboard.press("Enter")
    expect(page.locator(".status-sentence")).to_be_visible()
