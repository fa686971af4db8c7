"""The agency officer's pages in Chromium: a specialist of the commune's People's Committee finds
the civil-status step of a birth-registration dossier in their inbox, takes it on, is told beside
the field what a supplement request lacks, and completes the step with its result document; a
specialist of another agency opening the same step's address is shown the clear 'not found' page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import BIRTH_GROUP, Console, Screenshots, System, eventually


def civil_status_assigned(system: System) -> tuple[str, str]:
    created = system.submit(BIRTH_GROUP)

    def assigned() -> bool:
        route = system.get("routing", f"/dossiers/{created['id']}/route")
        return bool(route) and any(s["step_id"] == "civil-status" and s["state"] == "assigned" for s in route["steps"])

    eventually(assigned, timeout=30, what="the civil-status step assigned")
    return created["id"], created["code"]


def test_a_specialist_takes_on_and_completes_a_step_from_the_inbox(system: System, console: Console, shot: Screenshots) -> None:
    dossier_id, code = civil_status_assigned(system)
    page = console.page()
    console.sign_in(page, "specialist", "/xu-ly")
    expect(page.get_by_role("heading", name="Hồ sơ cần xử lý")).to_be_visible()
    page.get_by_label("Mã hồ sơ").fill(code)  # the inbox holds every open step of the agency
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("table.inbox tbody tr")).to_have_count(1)
    row = page.locator(f'tr[data-step="{dossier_id}/civil-status"]')
    expect(row).to_contain_text("Mới chuyển đến")
    shot(page, "inbox")
    page.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name=f"Hồ sơ {code}")).to_be_visible()
    expect(page.locator(".step-state")).to_have_text("Mới chuyển đến")
    expect(page.get_by_role("button", name="Tiếp nhận")).to_be_visible()
    expect(page.get_by_text("Trả lại bước trước")).to_have_count(0)  # the first step has no previous step
    shot(page, "step assigned")

    page.get_by_role("button", name="Tiếp nhận").click()
    expect(page.locator(".flash")).to_have_text("Đã tiếp nhận bước xử lý.")
    expect(page.locator(".step-state")).to_have_text("Đang xử lý")
    expect(page.get_by_role("button", name="Tiếp nhận")).to_have_count(0)

    page.locator("summary", has_text="Yêu cầu bổ sung hồ sơ").click()
    page.get_by_role("button", name="Yêu cầu bổ sung hồ sơ").click()
    items = page.get_by_label("Các giấy tờ cần bổ sung")
    expect(items).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#supplement-items-error")).to_have_text("Cần ít nhất một mục.")
    expect(page.locator(".step-state")).to_have_text("Đang xử lý")  # nothing was asked of the citizen
    shot(page, "supplement without items")

    page.locator("summary", has_text="Hoàn thành, chuyển kết quả").click()
    page.get_by_label("Giấy tờ kết quả").fill("Trích lục khai sinh số 183/2026\nTờ khai liên thông đã ký")
    page.get_by_role("button", name="Hoàn thành, chuyển kết quả").click()
    expect(page.locator(".flash")).to_have_text("Đã hoàn thành bước xử lý; hồ sơ được chuyển tiếp.")
    expect(page.locator(".step-state")).to_have_text("Đã xử lý xong")
    expect(page.locator(".facts")).to_contain_text("Trích lục khai sinh số 183/2026")
    expect(page.get_by_text("Ở trạng thái này bước không có thao tác nào.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Hoàn thành")
    shot(page, "step done")

    step = system.get("routing", f"/agency/steps/{dossier_id}/civil-status")
    assert step["state"] == "done"
    assert step["result_documents"] == ["Trích lục khai sinh số 183/2026", "Tờ khai liên thông đã ký"]
    assert step["officer"] == console.identities.officers["specialist"].name


def test_another_agencys_specialist_opening_the_step_is_told_it_is_not_theirs(
    system: System, console: Console, shot: Screenshots
) -> None:
    dossier_id, code = civil_status_assigned(system)
    page = console.page()
    console.sign_in(page, "specialist_b", "/xu-ly")
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("table.inbox tbody tr")).to_have_count(0)  # social insurance has no step of it yet
    response = page.goto(f"{console.url}/xu-ly/{dossier_id}/civil-status")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    expect(page.locator("body")).to_contain_text(re.compile("không thuộc đơn vị hay cơ quan của bạn"))
    expect(page.get_by_role("button", name="Tiếp nhận")).to_have_count(0)
    shot(page, "another agency")
