"""What the console's pages are given: its settings, the services' APIs, Keycloak and the seal of
its cookies. Built once per process (`web.service.build_app`)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.identity import TokenVerifier
from web.adapters.backend import Backend
from web.adapters.oidc import OidcClient
from web.adapters.sessions import CookieSeal
from web.application.signin import Officers
from web.settings import WebSettings


@dataclass
class Wiring:
    settings: WebSettings
    backend: Backend
    officers: Officers
    seal: CookieSeal
    http: httpx.AsyncClient

    @staticmethod
    def build(settings: WebSettings) -> Wiring:
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        oidc = OidcClient(settings.oidc_issuer, settings.oidc_client_id, http)
        verifier = TokenVerifier(settings.oidc_issuer, settings.oidc_audience)
        return Wiring(
            settings=settings,
            backend=Backend(settings),
            officers=Officers(oidc, verifier),
            seal=CookieSeal(settings.session_key, settings.session_idle_seconds),
            http=http,
        )

    async def close(self) -> None:
        await self.backend.close()
        await self.officers.verifier.close()
        await self.http.aclose()
