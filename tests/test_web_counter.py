"""The counter officer's day in Chromium: receive a birth-registration group dossier through the
form (a bad phone number is told beside the phone, the rest kept), print the receipt with its QR
code and the look-up secret, download its PDF, find the dossier in the unit's queue and open it;
ask for a supplement and print form 2. An officer of another unit opening the same address is told
plainly that the dossier is not theirs to see."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser import assert_usable
from tests.conftest import BIRTH_GROUP, Console, Screenshots, System, eventually


def receive_through_the_form(page: Page, shot: Screenshots) -> str:
    """Fill the reception form as an officer would; first with a bad phone. The dossier's page path."""
    page.get_by_label("Tìm theo tên, mã thủ tục hoặc lĩnh vực").fill("khai sinh thường trú")
    link = page.get_by_role("link", name=re.compile("Liên thông đăng ký khai sinh"))
    expect(link).to_be_visible()  # the htmx partial, while typing
    shot(page, "procedure search")
    link.click()
    expect(page.get_by_role("heading", name=re.compile("Liên thông đăng ký khai sinh"))).to_be_visible()
    page.get_by_role("checkbox", name="Giấy chứng sinh (bản chính)").check()
    page.get_by_role("checkbox", name="Tờ khai liên thông đăng ký khai sinh, thường trú, cấp thẻ BHYT").check()
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Lan")
    page.get_by_label("Số định danh cá nhân").fill("079190001234")
    page.get_by_label("Số điện thoại di động").fill("12345")
    page.get_by_label("SMS").check()
    page.get_by_label("Ngôn ngữ của thông báo").select_option("en")  # the applicant reads English
    page.get_by_role("button", name="Tiếp nhận hồ sơ và in giấy hẹn").click()

    phone = page.locator("#phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone-error")).to_contain_text("Số điện thoại di động không hợp lệ")
    expect(phone).to_have_attribute("aria-describedby", re.compile("phone-error"))
    expect(page.get_by_label("Họ và tên")).to_have_value("Nguyễn Thị Lan")  # the rest kept
    expect(page.get_by_role("checkbox", name="Giấy chứng sinh (bản chính)")).to_be_checked()
    assert_usable(page)
    shot(page, "bad phone beside the field")

    phone.fill("0912345678")
    page.get_by_role("button", name="Tiếp nhận hồ sơ và in giấy hẹn").click()
    expect(page.get_by_role("heading", name=re.compile("Giấy tiếp nhận hồ sơ và hẹn trả kết quả", re.I))).to_be_visible()
    return page.url.split("/bien-nhan")[0].removeprefix(page.url.split("/ho-so/")[0])


def test_a_counter_officer_receives_a_dossier_prints_its_receipt_and_finds_it_in_the_queue(
    system: System, console: Console, shot: Screenshots
) -> None:
    page = console.page()
    console.sign_in(page, "counter", "/tiep-nhan")
    expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ")).to_be_visible()
    path = receive_through_the_form(page, shot)

    # the receipt (form 1): legal header, the applicant, the documents, the QR code and the secret
    expect(page.locator(".flash")).to_contain_text("Đã tiếp nhận hồ sơ")
    receipt = page.locator("main")
    expect(receipt).to_contain_text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    expect(receipt).to_contain_text("Độc lập - Tự do - Hạnh phúc")
    expect(receipt).to_contain_text(re.compile(r"ngày \d\d tháng \d\d năm 20\d\d"))
    expect(receipt).to_contain_text("Nguyễn Thị Lan")
    expect(receipt).to_contain_text("Giấy chứng sinh (bản chính)")
    expect(receipt).to_contain_text("NGƯỜI TIẾP NHẬN HỒ SƠ")
    expect(receipt).to_contain_text(console.identities.officers["counter"].name)
    expect(page.locator(".qr svg")).to_be_visible()
    code = re.search(r"Mã hồ sơ: (\S+)", receipt.inner_text()).group(1)
    secret = page.locator(".secret").first.inner_text()
    assert re.fullmatch(r"[A-Z0-9]{6,}", secret), secret
    shot(page, "receipt")

    # the citizen's QR opens the look-up with the code and the secret: the same secret intake holds
    dossier_id = path.rsplit("/", 1)[-1]
    held = system.get("intake", f"/dossiers/{dossier_id}/receipt")
    assert held["dossier_code"] == code and held["lookup_secret"] == secret

    # the SMS of receipt is written in the language the applicant chose
    sms = eventually(lambda: next(iter(system.get("notify", f"/dossiers/{dossier_id}/notices") or []), None), what="the SMS")
    assert sms["language"] == "en" and "was received" in sms["body"], sms

    # the PDF of the same form
    pdf = page.request.get(f"{console.url}{path}/bien-nhan.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF-") and len(body) > 5_000 and b"%%EOF" in body[-1024:]

    # the unit's queue finds it; its page shows status, appointment, documents, timeline and actions
    page.goto(f"{console.url}/ho-so")
    page.get_by_label("Mã hồ sơ, số định danh, số điện thoại hoặc họ tên đầy đủ").fill(code)
    page.get_by_role("button", name="Lọc").click()
    row = page.locator("table.queue tbody tr", has_text=code)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Nguyễn Thị Lan")
    shot(page, "queue")
    row.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name=f"Hồ sơ {code}")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Hẹn trả kết quả")
    expect(page.get_by_role("heading", name="Thành phần hồ sơ")).to_be_visible()
    expect(page.get_by_role("heading", name="Diễn biến")).to_be_visible()
    expect(page.locator("summary", has_text="Yêu cầu bổ sung, hoàn thiện hồ sơ")).to_be_visible()
    expect(page.locator("summary", has_text="Trả kết quả")).to_have_count(0)  # no result yet
    shot(page, "dossier page")

    # on a phone the page stays usable: no sideways scrolling
    phone = console.page(phone=True)
    console.sign_in(phone, "counter", path)
    expect(phone.get_by_role("heading", name=f"Hồ sơ {code}")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "dossier page on a phone")

    # an officer of another unit is told plainly it is not theirs
    other = console.page()
    console.sign_in(other, "counter_b", path)
    expect(other.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    expect(other.locator("body")).to_contain_text("không thuộc đơn vị")
    expect(other.locator("body")).not_to_contain_text("Nguyễn Thị Lan")
    shot(other, "another unit: not found")


def test_the_counter_asks_for_a_supplement_refuses_and_prints_forms_2_3_and_5(
    system: System, console: Console, shot: Screenshots
) -> None:
    dossier = system.submit({**BIRTH_GROUP, "receiving_unit": "000.00.00.H30"})
    page = console.page()
    console.sign_in(page, "counter", f"/ho-so/{dossier['id']}")
    page.locator("summary", has_text="Yêu cầu bổ sung, hoàn thiện hồ sơ").click()
    page.get_by_role("button", name="Yêu cầu bổ sung, hoàn thiện hồ sơ").click()  # nothing listed yet
    expect(page.locator("#request_supplement-items-error")).to_be_visible()
    expect(page.locator("#request_supplement-items")).to_have_attribute("aria-invalid", "true")
    shot(page, "supplement without items")

    page.get_by_label("Giấy tờ cần bổ sung (mỗi giấy tờ một dòng)").fill(
        "Giấy chứng sinh bản chính\nTờ khai có chữ ký của cha hoặc mẹ"
    )
    page.locator("#request_supplement-reason").fill("Giấy chứng sinh là bản chụp")
    page.get_by_role("button", name="Yêu cầu bổ sung, hoàn thiện hồ sơ").click()
    expect(page.locator(".flash")).to_contain_text("Đã gửi yêu cầu bổ sung hồ sơ")
    expect(page.locator(".badge").first).to_have_text("Yêu cầu bổ sung hồ sơ")
    expect(page.locator("summary", has_text="Nhận hồ sơ bổ sung")).to_be_visible()
    shot(page, "supplement requested")

    page.get_by_role("link", name="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ").click()
    form = page.locator("main")
    expect(form).to_contain_text("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ")
    expect(form).to_contain_text("Tờ khai có chữ ký của cha hoặc mẹ")
    expect(form).to_contain_text("Giấy chứng sinh là bản chụp")
    expect(form).to_contain_text(console.identities.officers["counter"].name)
    shot(page, "form 2")
    pdf = page.request.get(f"{console.url}/ho-so/{dossier['id']}/phieu-bo-sung.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")

    # the control sheet (form 5): the handover to the commune's civil-status step, and who made it
    sheet = eventually(
        lambda: (r := page.request.get(f"{console.url}/ho-so/{dossier['id']}/phieu-kiem-soat")).ok and r.text(), what="form 5"
    )
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in sheet and "UBND xã (hộ tịch)" in sheet

    # still incomplete: the counter refuses it, with the reason, and prints form 3
    page.goto(f"{console.url}/ho-so/{dossier['id']}")
    page.locator("summary", has_text="Từ chối tiếp nhận hồ sơ").click()
    page.locator("#refuse-reason").fill("Hồ sơ không thuộc thẩm quyền giải quyết")
    page.get_by_role("button", name="Từ chối tiếp nhận hồ sơ").click()
    expect(page.locator(".flash")).to_contain_text("Đã từ chối tiếp nhận hồ sơ")
    expect(page.locator("summary")).to_have_count(0)  # a refused dossier offers nothing more
    page.get_by_role("link", name="Phiếu từ chối tiếp nhận giải quyết hồ sơ").click()
    expect(page.locator("main")).to_contain_text("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ")
    expect(page.locator("main")).to_contain_text("Hồ sơ không thuộc thẩm quyền giải quyết")
    shot(page, "form 3")

    # it was never late: there is no apology (form 4) to print, and the page says so
    response = page.goto(f"{console.url}/ho-so/{dossier['id']}/phieu-xin-loi")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Chưa có phiếu này")).to_be_visible()
    expect(page.locator("body")).to_contain_text("chưa quá hạn")
