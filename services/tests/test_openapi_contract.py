"""The OpenAPI document declares the answers the services really give and how to get a token."""

from __future__ import annotations

from typing import Any

import pytest

from services.problems import PROBLEM_JSON

ISSUER = "http://127.0.0.1:9/realms/motcua"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.runtime import build_app

    return build_app(definition, IntakeSettings(service_name="intake", OIDC_ISSUER=ISSUER)).openapi()


def test_keycloak_is_the_oauth2_scheme_with_its_endpoints(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["keycloak"]
    flows = schemes["keycloak"]["flows"]
    assert schemes["keycloak"]["type"] == "oauth2"
    assert flows["authorizationCode"]["authorizationUrl"] == ISSUER + "/protocol/openid-connect/auth"
    assert flows["authorizationCode"]["tokenUrl"] == ISSUER + "/protocol/openid-connect/token"
    assert flows["clientCredentials"]["tokenUrl"] == ISSUER + "/protocol/openid-connect/token"


def test_staff_operations_need_a_token_and_public_ones_do_not(document: dict[str, Any]) -> None:
    paths = document["paths"]
    staff = paths["/dossiers/{dossier_id}/refusal"]["post"]
    assert staff["security"] == [{"keycloak": []}]
    for status in ("401", "403", "404", "409", "413", "415", "422", "503"):
        assert PROBLEM_JSON in staff["responses"][status]["content"], status
    for public in (paths["/lookup"]["post"], paths["/healthz"]["get"]):
        assert "security" not in public
        assert "401" not in public["responses"]


def test_every_operation_may_answer_503_and_every_problem_has_an_example(document: dict[str, Any]) -> None:
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], f"{method} {path}"
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(operation["responses"]), f"{method} {path}"
            for status, answer in operation["responses"].items():
                problem = answer.get("content", {}).get(PROBLEM_JSON)
                if problem and status in ("401", "403", "409", "413", "415", "422", "503"):
                    assert problem["example"]["status"] == int(status), f"{method} {path} {status}"


async def test_docs_serve_swagger_ui_from_the_installed_files_not_a_cdn() -> None:
    import re

    import httpx

    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.runtime import build_app

    app = build_app(definition, IntakeSettings(service_name="intake", OIDC_ISSUER=ISSUER))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert urls and all(url.startswith("/") for url in urls), urls
        assert "http://" not in page.text and "https://" not in page.text
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
        assert (await client.get("/docs/oauth2-redirect")).status_code == 200
