"""The operator's personal-data pages in Chromium: a citizen's export, asked by citizen id, shows
each service's answer and what it held, and downloads as a file for the citizen; a wrong id or an
unconfirmed erasure is told beside the field and sends nothing; an erasure of the ended dossier
leaves nothing to find; a counter officer cannot open the pages."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import Console, Screenshots, System, eventually

CITIZEN_ID = f"0791{secrets.randbelow(10**8):08d}"
PHONE = f"09{secrets.randbelow(10**8):08d}"
EMAIL = f"quyen.{secrets.token_hex(3)}@example.vn"
NAME = "Đoàn Thị Quyền"
SOME = re.compile(r"^[1-9][0-9]*$")  # records held
COPY = {  # one step at UBND-XA, notices by SMS and e-mail
    "procedure_code": "1.004227",
    "channel": 2,
    "documents": [{"code": "request-form"}],
    "applicant": {"name": NAME, "citizen_id": CITIZEN_ID, "phone": PHONE, "email": EMAIL, "notify_channels": ["sms", "email"]},
}


def requests_listed(system: System) -> list[dict[str, Any]]:
    answer = system.http.get(f"{system.url('intake')}/personal-data/requests", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return answer.json()


def ask(page: Page, citizen_id: str, kind: str, *, confirm: bool = False) -> None:
    page.get_by_label("Số định danh cá nhân của công dân").fill(citizen_id)
    page.get_by_label(kind, exact=True).check()
    if confirm:
        page.get_by_label("Tôi xác nhận", exact=False).check()
    page.get_by_role("button", name="Gửi yêu cầu").click()


def test_an_operator_exports_then_erases_a_citizens_data_from_the_console(
    system: System, console: Console, shot: Screenshots
) -> None:
    dossier = system.submit(COPY)
    code = dossier["code"]
    eventually(lambda: system.get("notify", f"/dossiers/{dossier['id']}/notices"), timeout=60, what="the notice of receipt")

    page = console.page()
    console.sign_in(page, "operator")  # the operator's work is this page
    expect(page.get_by_role("heading", name="Dữ liệu cá nhân của công dân")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Dữ liệu cá nhân")).to_be_visible()
    before = len(requests_listed(system))

    # A wrong id is told beside the field and sends nothing; the id is not shown back.
    ask(page, CITIZEN_ID[:11], "Trích xuất dữ liệu")
    field = page.get_by_label("Số định danh cá nhân của công dân")
    expect(page.locator("#citizen_id-error")).to_have_text("Số định danh cá nhân gồm đúng 12 chữ số.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("")
    shot(page, "wrong citizen id")
    assert len(requests_listed(system)) == before

    # The export: every service answers; the page shows what intake and notify held.
    ask(page, CITIZEN_ID, "Trích xuất dữ liệu")
    expect(page.get_by_role("heading", name="Trích xuất dữ liệu")).to_be_visible()
    expect(page.locator("#request-state")).to_contain_text("Tất cả các cơ quan đã trả lời.", timeout=60_000)  # it reloads
    row = page.locator(f'#answers tr[data-dossier="{dossier["id"]}"]')
    expect(row.locator("th")).to_have_text(code)
    for service in ("intake", "routing", "deadline", "notify"):
        expect(row.locator(f'td[data-service="{service}"]')).to_have_text("0" if service == "deadline" else SOME)
    held = page.locator(f'section[data-held="{dossier["id"]}"]')
    applicant = held.locator('dl[data-service="intake"][data-class="applicant"]')
    for value in (NAME, CITIZEN_ID, PHONE, EMAIL, code):
        expect(applicant).to_contain_text(value)
    expect(held.locator('dl[data-service="notify"][data-class="contacts"]')).to_contain_text(PHONE)
    expect(held.locator('dl[data-service="notify"][data-class="notices"]').first).to_be_visible()
    shot(page, "export")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Tải dữ liệu (JSON) để giao cho công dân").click()
    document = json.loads(open(downloading.value.path(), encoding="utf-8").read())
    (exported,) = document["dossiers"]
    assert exported["dossier_code"] == code and document["complete"] is True
    assert exported["held"]["intake"]["applicant"][0]["phone"] == PHONE
    assert EMAIL in json.dumps(exported["held"]["notify"], ensure_ascii=False)

    # An erasure needs the confirmation; without it nothing is sent.
    page.goto(f"{console.url}/du-lieu-ca-nhan")
    asked = len(requests_listed(system))
    ask(page, CITIZEN_ID, "Xoá dữ liệu")
    expect(page.locator("#confirmed-error")).to_contain_text("không hoàn tác được")
    assert len(requests_listed(system)) == asked

    # Still in progress: the dossier is kept, with the reason.
    ask(page, CITIZEN_ID, "Xoá dữ liệu", confirm=True)
    expect(page.locator("#kept")).to_contain_text(code)
    shot(page, "erasure kept")

    withdrawn = system.http.post(f"{system.url('intake')}/dossiers/{dossier['id']}/withdrawal", json={"reason": "Không cần nữa"})
    assert withdrawn.status_code == 200, withdrawn.text
    page.goto(f"{console.url}/du-lieu-ca-nhan")
    ask(page, CITIZEN_ID, "Xoá dữ liệu", confirm=True)
    expect(page.locator("#request-state")).to_contain_text("Tất cả các cơ quan đã trả lời.", timeout=60_000)
    expect(page.locator(f'#answers tr[data-dossier="{dossier["id"]}"] th')).to_have_text(code)
    expect(page.locator("#kept")).to_have_count(0)
    shot(page, "erasure")

    # Nothing is left to find the citizen by; the list names no citizen.
    page.goto(f"{console.url}/du-lieu-ca-nhan")
    ask(page, CITIZEN_ID, "Trích xuất dữ liệu")
    expect(page.get_by_text("Không có hồ sơ nào của số định danh này.")).to_be_visible()
    page.goto(f"{console.url}/du-lieu-ca-nhan")
    expect(page.locator("tbody tr")).to_have_count(min(len(requests_listed(system)), 50))
    listing = page.content()
    assert not any(value in listing for value in (CITIZEN_ID, PHONE, EMAIL, NAME))


def test_a_counter_officer_cannot_open_the_personal_data_pages(console: Console) -> None:
    page = console.page()
    console.sign_in(page, "counter", "/du-lieu-ca-nhan")
    expect(page.get_by_role("heading", name="Không có quyền")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Dữ liệu cá nhân")).to_have_count(0)
