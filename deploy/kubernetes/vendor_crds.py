"""Brings the operators' CustomResourceDefinitions the manifests are validated against into
`deploy/kubernetes/crds/`, from the package registries, and records where each came from.

- CloudNativePG: its Go module (the Go module proxy) ships `config/crd/bases/*.yaml` as released.
- Strimzi: its releases' CRDs are made at build time by Strimzi's own CRD generator from the API
  classes; both are on Maven Central (`io.strimzi:crd-generator`, `io.strimzi:api`), and the API
  jar carries its pom, whose `generate-crd-co-install-v1` execution gives the generator's arguments.
  The same generator is run here with those arguments (it needs Java 21 or newer: `--java`).

Descriptions are left out of the vendored copies (they are most of the bytes and play no part in
validation); the SHA-256 of each file as it came is in `crds/SOURCES.md`. The copies serve the tests
only: install each operator's own CRDs on a cluster.

    python -m deploy.kubernetes.vendor_crds --java /usr/lib/jvm/<jdk-21+>/bin/java
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

CRDS = Path(__file__).resolve().parent / "crds"
CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
CNPG_VERSION = "v1.30.0"
CNPG_FILES = ("postgresql.cnpg.io_clusters.yaml", "postgresql.cnpg.io_databases.yaml")
STRIMZI_VERSION = "1.2.0"
# The generator's arguments in io.strimzi:api's pom (execution generate-crd-co-install-v1).
STRIMZI_ARGS = [
    "--label", "app:strimzi",
    "--label", "strimzi.io/crd-install:true",
    "--target-kube", "1.16+",
    "--crd-api-version", "v1",
    "--api-versions", "v1",
    "--storage-version", "v1",
    "--yaml",
]  # fmt: skip
STRIMZI_CLASSES = {
    "040-Crd-kafka.yaml": "io.strimzi.api.kafka.model.kafka.Kafka",
    "043-Crd-kafkatopic.yaml": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "044-Crd-kafkauser.yaml": "io.strimzi.api.kafka.model.user.KafkaUser",
    "045-Crd-kafkanodepool.yaml": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
}


def without_descriptions(node: Any) -> Any:
    """The schema with every `description` text left out (a property named `description` stays)."""
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def vendor(source: Path, name: str, origin: str) -> str:
    text = source.read_text()
    crd = without_descriptions(yaml.safe_load(text))
    (CRDS / name).write_text(f"# {origin}; descriptions left out (see SOURCES.md).\n" + yaml.safe_dump(crd, sort_keys=False))
    return f"| `{name}` | {origin} | `{hashlib.sha256(text.encode()).hexdigest()}` |"


def cloudnative_pg() -> list[str]:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{CNPG_MODULE}@{CNPG_VERSION}"], check=True, capture_output=True, text=True
    )
    bases = Path(json.loads(out.stdout)["Dir"]) / "config" / "crd" / "bases"
    return [vendor(bases / f, f, f"Go module {CNPG_MODULE}@{CNPG_VERSION}, config/crd/bases/{f}") for f in CNPG_FILES]


def maven_jar(artifact: str) -> Path:
    group, name, version = artifact.split(":")
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get",
            f"-Dartifact={artifact}",
            "-Dtransitive=false",
        ],
        check=True,
    )
    return Path.home() / ".m2" / "repository" / group.replace(".", "/") / name / version / f"{name}-{version}.jar"


def strimzi(java: str) -> list[str]:
    api = maven_jar(f"io.strimzi:api:{STRIMZI_VERSION}")
    generator = maven_jar(f"io.strimzi:crd-generator:{STRIMZI_VERSION}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [f"{cls}={Path(tmp) / name}" for name, cls in STRIMZI_CLASSES.items()]
        subprocess.run(
            [java, "-cp", f"{api}:{generator}", "io.strimzi.crdgenerator.CrdGenerator", *STRIMZI_ARGS, *targets], check=True
        )
        for name in STRIMZI_CLASSES:
            origin = (
                f"Strimzi {STRIMZI_VERSION}: io.strimzi:crd-generator:{STRIMZI_VERSION} run on io.strimzi:api:{STRIMZI_VERSION}"
            )
            rows.append(vendor(Path(tmp) / name, name, origin))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--java", default="java", help="a Java 21 or newer, for Strimzi's CRD generator")
    args = parser.parse_args()
    CRDS.mkdir(exist_ok=True)
    rows = cloudnative_pg() + strimzi(args.java)
    (CRDS / "SOURCES.md").write_text(
        "# Where these CRDs come from\n\n"
        "Made by `python -m deploy.kubernetes.vendor_crds` (see its docstring); used only by\n"
        "`tests/test_kubernetes_manifests.py` to validate the rendered custom resources against the\n"
        "operators' own `openAPIV3Schema`. Both projects are Apache-2.0 licensed. Descriptions are left out;\n"
        "the SHA-256 is of each file as the registry or the generator gave it.\n\n"
        "| file | from | SHA-256 as it came |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    main()
