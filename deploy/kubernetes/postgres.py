"""PostgreSQL the way CloudNativePG runs it: a `Cluster` of a primary and a standby that streams
from it (synchronously while it is there, so a failover loses no acknowledged dossier; the primary
goes on alone when it is not), the services' database made at bootstrap, and one login per
service and one for Keycloak (`managed.roles`), each with its password from a Secret the services
read too. The `Database` resources give each service its schema, owned by its own login (which
applies the migrations at start and has no privilege anywhere else), and Keycloak its own
database, as `infra/stack.py` does on one machine."""

from __future__ import annotations

from deploy.kubernetes.common import Object, database_secret, resources, storage_class
from deploy.kubernetes.identity import LOGIN as KEYCLOAK_LOGIN
from deploy.kubernetes.values import Values
from services.events.topics import SERVICES

API = "postgresql.cnpg.io/v1"
OWNER = "motcua"  # owns the services' database; no service connects as it


def login(values: Values, name: str, comment: str) -> Object:
    return {
        "name": name,
        "ensure": "present",
        "comment": comment,
        "login": True,
        "superuser": False,
        "createdb": False,
        "createrole": False,
        "replication": False,
        "bypassrls": False,
        "passwordSecret": {"name": database_secret(values, name)},
    }


def objects(values: Values) -> list[Object]:
    pg = values.postgres
    labels = {"app.kubernetes.io/part-of": values.name}
    cluster: Object = {
        "apiVersion": API,
        "kind": "Cluster",
        "metadata": {"name": pg.cluster, "namespace": values.namespace, "labels": labels},
        "spec": {
            "instances": pg.instances,
            "imageName": pg.image,
            "primaryUpdateStrategy": "unsupervised",
            "postgresql": {"parameters": {"max_connections": str(pg.max_connections)}},
            "bootstrap": {"initdb": {"database": pg.database, "owner": OWNER}},
            "managed": {
                "roles": [login(values, service, f"MotCua {service}: owns schema {service}") for service in SERVICES]
                + [login(values, KEYCLOAK_LOGIN, f"Keycloak: owns database {values.identity.database}")]
            },
            "storage": {"size": pg.storage.size, **storage_class(pg.storage)},
            "resources": resources(pg.resources),
            "affinity": {"enablePodAntiAffinity": True, "topologyKey": "kubernetes.io/hostname"},
        },
    }
    if pg.instances > 1:
        cluster["spec"]["postgresql"]["synchronous"] = {"method": "any", "number": 1, "dataDurability": "preferred"}
    return [
        cluster,
        {
            "apiVersion": API,
            "kind": "Database",
            "metadata": {
                "name": f"{pg.cluster}-{pg.database.replace('_', '-')}",
                "namespace": values.namespace,
                "labels": labels,
            },
            "spec": {
                "name": pg.database,
                "owner": OWNER,
                "cluster": {"name": pg.cluster},
                "schemas": [{"name": service, "owner": service, "ensure": "present"} for service in SERVICES],
            },
        },
        {
            "apiVersion": API,
            "kind": "Database",
            "metadata": {
                "name": f"{pg.cluster}-{values.identity.database.replace('_', '-')}",
                "namespace": values.namespace,
                "labels": labels,
            },
            "spec": {"name": values.identity.database, "owner": KEYCLOAK_LOGIN, "cluster": {"name": pg.cluster}},
        },
    ]
