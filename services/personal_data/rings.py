"""Which key ring a process uses. In a deployment each service is given its own, and only its own:
`PERSONAL_DATA_KEYS` (at rest), `PERSONAL_DATA_INDEX_KEY` (intake's blind index) and `CONTACT_KEYS`
(intake and notify, for the contact they pass on the private stream), each also as `<NAME>_FILE`.

On one machine (`make run`, the tests) `infra/` makes every ring once per profile in one file
(mode 0600) named by `PERSONAL_DATA_KEYRINGS_FILE`; a service process is handed its own rings from
it (`process_env`), and an in-process runtime of the tests reads its service's from it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from services.personal_data.keys import KeyRing, SealError, new_key, ring_text

KEYRINGS_FILE = "PERSONAL_DATA_KEYRINGS_FILE"
CONTACT_PURPOSE = "motcua.contact"
# Who holds which ring besides its own at-rest ring.
INDEX_HOLDERS = ("intake",)
CONTACT_HOLDERS = ("intake", "notify")


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _from_file(environ: Mapping[str, str], service: str) -> dict[str, str]:
    path = environ.get(KEYRINGS_FILE)
    if not path:
        return {}
    return process_env(service, Path(path))


def service_ring(service: str, environ: Mapping[str, str] | None = None) -> KeyRing:
    """The service's at-rest ring (with the blind-index key when it holds one)."""
    env = _env(environ)
    if not (env.get("PERSONAL_DATA_KEYS") or env.get("PERSONAL_DATA_KEYS_FILE")):
        env = {**env, **_from_file(env, service)}
    return KeyRing.from_environment(env)


def contact_ring(service: str, environ: Mapping[str, str] | None = None) -> KeyRing:
    env = _env(environ)
    if not (env.get("CONTACT_KEYS") or env.get("CONTACT_KEYS_FILE")):
        env = {**env, **_from_file(env, service)}
    try:
        return KeyRing.from_environment(env, prefix="CONTACT")
    except SealError as exc:
        raise SealError(f"{exc} (intake seals the applicant's contact for notify with it)") from None


def make_keyrings(path: Path, services: tuple[str, ...]) -> dict[str, str]:
    """Every ring of one machine's profile: made once, kept so a restart opens what was sealed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        rings = {service: ring_text({f"{service[0]}1": new_key()}) for service in services}
        rings["index"] = new_key()
        rings["contacts"] = ring_text({"c1": new_key()})
        path.write_text(json.dumps(rings, indent=1))
    return json.loads(path.read_text())


def process_env(service: str, path: Path) -> dict[str, str]:
    """The environment one service process is given from the profile's rings file: its own ring,
    and the index and contact keys if it is one that holds them."""
    rings = json.loads(path.read_text())
    if service not in rings:
        return {}
    env = {"PERSONAL_DATA_KEYS": rings[service]}
    if service in INDEX_HOLDERS:
        env["PERSONAL_DATA_INDEX_KEY"] = rings["index"]
    if service in CONTACT_HOLDERS:
        env["CONTACT_KEYS"] = rings["contacts"]
    return env


def rotate(path: Path, service: str) -> str:
    """Put a new key first in a service's ring in the profile's file (the old ones still open);
    the new key's id. The processes take it at their next start."""
    rings = json.loads(path.read_text())
    current = [part.split(":", 1) for part in rings[service].split(",")]
    number = 1 + max(int(key_id[1:]) if key_id[1:].isdigit() else 0 for key_id, _ in current)
    key_id = f"{service[0]}{number}"
    rings[service] = ring_text({key_id: new_key(), **dict(current)})
    path.write_text(json.dumps(rings, indent=1))
    return key_id
