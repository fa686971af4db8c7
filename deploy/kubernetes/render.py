"""The whole rendering: every object, grouped into the files `--out` writes (in the order they
are best applied), and the YAML they are written as."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.kubernetes import apps, identity, kafka, postgres
from deploy.kubernetes.common import Object
from deploy.kubernetes.values import Values


def namespace(values: Values) -> list[Object]:
    if not values.create_namespace:
        return []
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": values.namespace,
                "labels": {
                    "app.kubernetes.io/part-of": values.name,
                    # Our pods meet the restricted profile; the operators' pods are checked against baseline.
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        }
    ]


def render(values: Values) -> dict[str, list[Object]]:
    """File name → its objects."""
    files = {
        "00-namespace.yaml": namespace(values),
        "10-kafka.yaml": kafka.objects(values),
        "20-postgres.yaml": postgres.objects(values),
        "30-keycloak.yaml": identity.objects(values),
        "40-services.yaml": apps.objects(values),
    }
    return {name: objects for name, objects in files.items() if objects}


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> Any:
    # Multi-line texts (the realm file, the theme) as literal blocks, readable in a review.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def to_yaml(objects: list[Object]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def write(files: dict[str, list[Object]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, objects in files.items():
        (out / name).write_text(to_yaml(objects))
