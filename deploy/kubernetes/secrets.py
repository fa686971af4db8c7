"""The Secrets the rendered manifests refer to but never contain: the database logins' passwords,
Keycloak's first administrator, the console's session key and the personal-data key rings (a key
is rotated by putting a new one first in a ring: `docs/personal-data.md`). `python -m deploy.kubernetes
--secrets` prints them with fresh random values, to be applied once before the rest and kept
(rendering them again would change every password). The Kafka logins' Secrets are Strimzi's to make."""

from __future__ import annotations

import base64
import secrets

from deploy.kubernetes.common import Object, database_secret, keycloak_admin_secret, personal_data_secret, web_secret
from deploy.kubernetes.identity import LOGIN as KEYCLOAK_LOGIN
from deploy.kubernetes.values import Values
from services.events.topics import SERVICES
from services.personal_data.keys import new_key, ring_text
from services.personal_data.rings import INDEX_HOLDERS


def password() -> str:
    """URL-safe, so it can sit in DATABASE_URL as it is."""
    return secrets.token_urlsafe(24)


def objects(values: Values) -> list[Object]:
    def secret(name: str, data: dict[str, str], kind: str = "Opaque", **labels: str) -> Object:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": kind,
            "metadata": {
                "name": name,
                "namespace": values.namespace,
                "labels": {"app.kubernetes.io/part-of": values.name, **labels},
            },
            "stringData": data,
        }

    # CloudNativePG applies a changed password at once when the Secret carries this label.
    reload = {"cnpg.io/reload": "true"}
    return [
        *(
            secret(
                database_secret(values, login), {"username": login, "password": password()}, "kubernetes.io/basic-auth", **reload
            )
            for login in (*SERVICES, KEYCLOAK_LOGIN)
        ),
        secret(keycloak_admin_secret(values), {"username": "admin", "password": password()}, "kubernetes.io/basic-auth"),
        secret(web_secret(values), {"session-key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}),
        *(
            secret(
                personal_data_secret(values, service),
                {
                    "keys": ring_text({f"{service[0]}1": new_key()}),
                    **({"index-key": new_key()} if service in INDEX_HOLDERS else {}),
                },
            )
            for service in SERVICES
        ),
        secret(personal_data_secret(values, "contacts"), {"keys": ring_text({"c1": new_key()})}),
    ]
