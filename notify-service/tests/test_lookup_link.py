"""The citizen's look-up link: the code and the receipt's secret in the configured template, and
the link without the secret that every later notice gives."""

import pytest
from pydantic import ValidationError

from notify.domain.lookup_link import carried_by_sms, check_template, lookup_link
from notify.settings import NotifySettings

CODE = "000.00.00.H30-261122-0001"
CONSOLE = "http://127.0.0.1:8005/tra-cuu?ma={code}&ms={secret}"  # what the web console serves


def test_the_receipts_link_carries_the_code_and_the_secret_and_later_links_the_code_alone() -> None:
    assert lookup_link(CONSOLE, CODE, "7KQ2MZ4P") == f"http://127.0.0.1:8005/tra-cuu?ma={CODE}&ms=7KQ2MZ4P"
    assert lookup_link(CONSOLE, CODE) == f"http://127.0.0.1:8005/tra-cuu?ma={CODE}"
    assert lookup_link("https://dvc.example.vn/tra-cuu?ms={secret}&ma={code}&src=sms", CODE) == (
        f"https://dvc.example.vn/tra-cuu?ma={CODE}&src=sms"
    )
    assert lookup_link("https://dvc.example.vn/tra-cuu/{code}/{secret}", CODE, "7KQ2MZ4P").endswith(f"/{CODE}/7KQ2MZ4P")
    assert (
        lookup_link("https://dvc.example.vn/tra-cuu?ma={code}", CODE, "7KQ2MZ4P") == f"https://dvc.example.vn/tra-cuu?ma={CODE}"
    )
    assert lookup_link(CONSOLE, "A&B C", "X/Y") == "http://127.0.0.1:8005/tra-cuu?ma=A%26B%20C&ms=X%2FY"  # quoted


def test_a_link_template_names_the_code_and_nothing_but_the_code_and_the_secret() -> None:
    assert check_template(CONSOLE) == CONSOLE
    for bad in ("https://dvc.example.vn/tra-cuu", "https://dvc.example.vn/?ma={code}&u={user}", "https://x/{code"):
        with pytest.raises(ValueError):
            check_template(bad)
    issuer = "http://127.0.0.1:8080/realms/motcua"
    with pytest.raises(ValidationError) as refused:
        NotifySettings(service_name="notify", OIDC_ISSUER=issuer, NOTIFY_LOOKUP_URL="https://dvc.example.vn/tra-cuu?id={dossier}")
    assert [e["loc"] for e in refused.value.errors()] == [("NOTIFY_LOOKUP_URL",)]
    assert "{secret}" in NotifySettings(service_name="notify", OIDC_ISSUER=issuer).lookup_url


def test_an_sms_carries_a_link_only_if_the_gateway_takes_every_character() -> None:
    assert not carried_by_sms(lookup_link(CONSOLE, CODE, "7KQ2MZ4P"), "%#&")
    assert carried_by_sms(lookup_link(CONSOLE, CODE), "%#&")
