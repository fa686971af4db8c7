"""OAuth2 client credentials for the agencies' API: `POST /oauth/token`, the client's id and secret
in the form or as HTTP Basic credentials, answered with a short-lived bearer token."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from fastapi import APIRouter, Request

from routing.application.tokens import issue_token, unauthorized
from routing.deps import AgenciesDep, TokensDep, UnitOfWorkDep
from routing.schemas import TokenResponse
from services.problems import Problem

router = APIRouter(tags=["agencies"])

_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string", "description": "Or HTTP Basic authentication."},
                        "client_secret": {"type": "string"},
                    },
                },
                "example": {"grant_type": "client_credentials", "client_id": "ubnd-xa", "client_secret": "…"},
            }
        },
    }
}


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    tags=["auth"],
    summary="OAuth2 client credentials: a short-lived token for an agency",
    openapi_extra=_TOKEN_FORM,
)
async def token(request: Request, uow: UnitOfWorkDep, agencies: AgenciesDep, tokens: TokensDep) -> TokenResponse:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized("malformed basic credentials") from None
    if form.get("grant_type") != "client_credentials":
        raise Problem(
            400,
            "Unsupported grant type",
            "grant_type must be client_credentials",
            type="unsupported-grant-type",
            errors=[{"field": "grant_type", "message": "must be client_credentials"}],
        )
    return await issue_token(uow, agencies, tokens, client_id, client_secret)
