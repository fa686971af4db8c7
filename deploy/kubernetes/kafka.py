"""Kafka the way Strimzi runs it: a `Kafka` cluster in KRaft mode whose nodes come from one
`KafkaNodePool` (each node both controller and broker), a TLS listener taking SCRAM-SHA-512 logins,
the simple authorizer (deny unless an ACL allows), a `KafkaTopic` per topic and a `KafkaUser` per
service.

Each `KafkaUser`'s ACLs are made from `services.kafka_acls.service_acls`, the very list the
development brokers are given, so what a service may do on Kubernetes cannot drift from what the
tests prove it may do. Strimzi's user operator writes each user's password into a Secret of the
user's name, and the cluster CA into `<cluster>-cluster-ca-cert`; the services read both."""

from __future__ import annotations

import re
from itertools import groupby

from deploy.kubernetes.apps import kafka_user
from deploy.kubernetes.common import KAFKA_TLS_PORT, Object, resources, storage_class
from deploy.kubernetes.values import Values
from services.events.topics import SERVICES, all_topics
from services.kafka_acls import Acl, Operation, Pattern, Resource, service_acls

API = "kafka.strimzi.io/v1"
NODE_POOL = "dual-role"
RESOURCE_TYPES = {Resource.TOPIC: "topic", Resource.GROUP: "group"}
PATTERN_TYPES = {Pattern.LITERAL: "literal", Pattern.PREFIXED: "prefix"}
OPERATIONS = {Operation.READ: "Read", Operation.WRITE: "Write", Operation.CREATE: "Create", Operation.DESCRIBE: "Describe"}


def cluster_labels(values: Values) -> dict[str, str]:
    return {"strimzi.io/cluster": values.kafka.cluster, "app.kubernetes.io/part-of": values.name}


def topic_object_name(topic: str) -> str:
    """A Kubernetes name for a topic (lower case, no '_'); `spec.topicName` keeps the real one."""
    return re.sub(r"[^a-z0-9.-]", "-", topic.lower()).strip(".-")


def strimzi_acls(acls: list[Acl]) -> list[Object]:
    """Strimzi's form of the ACLs: one rule per resource, with all its operations."""

    def resource(acl: Acl) -> tuple[Resource, str, Pattern]:
        return acl.resource, acl.name, acl.pattern

    return [
        {
            "type": "allow",
            "resource": {"type": RESOURCE_TYPES[kind], "name": name, "patternType": PATTERN_TYPES[pattern]},
            "operations": [OPERATIONS[acl.operation] for acl in group],
            "host": "*",
        }
        for (kind, name, pattern), group in groupby(acls, key=resource)
    ]


def objects(values: Values) -> list[Object]:
    kafka = values.kafka
    spec_kafka: Object = {
        "listeners": [
            {
                "name": "tls",
                "port": KAFKA_TLS_PORT,
                "type": "internal",
                "tls": True,
                "authentication": {"type": "scram-sha-512"},
            }
        ],
        "authorization": {"type": "simple"},
        "config": {
            # Topics, ACLs and logins come from the custom resources below, never from a client.
            "auto.create.topics.enable": False,
            "default.replication.factor": kafka.replication_factor,
            "min.insync.replicas": kafka.min_insync_replicas,
            "offsets.topic.replication.factor": kafka.replication_factor,
            "transaction.state.log.replication.factor": kafka.replication_factor,
            "transaction.state.log.min.isr": kafka.min_insync_replicas,
            "unclean.leader.election.enable": False,
        },
    }
    if kafka.version:
        spec_kafka = {"version": kafka.version, **spec_kafka}
    rendered: list[Object] = [
        {
            "apiVersion": API,
            "kind": "Kafka",
            "metadata": {
                "name": kafka.cluster,
                "namespace": values.namespace,
                "labels": {"app.kubernetes.io/part-of": values.name},
                # Strimzi 0.4x ran KRaft and node pools only when told so; 1.x runs no other way.
                "annotations": {"strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled"},
            },
            "spec": {"kafka": spec_kafka, "entityOperator": {"topicOperator": {}, "userOperator": {}}},
        },
        {
            "apiVersion": API,
            "kind": "KafkaNodePool",
            "metadata": {"name": NODE_POOL, "namespace": values.namespace, "labels": cluster_labels(values)},
            "spec": {
                "replicas": kafka.brokers,
                "roles": ["controller", "broker"],
                "storage": {
                    "type": "jbod",
                    "volumes": [
                        {
                            "id": 0,
                            "type": "persistent-claim",
                            "size": kafka.storage.size,
                            **storage_class(kafka.storage),
                            "deleteClaim": False,
                            "kraftMetadata": "shared",
                        }
                    ],
                },
                "resources": resources(kafka.resources),
            },
        },
    ]
    rendered += [
        {
            "apiVersion": API,
            "kind": "KafkaTopic",
            "metadata": {"name": topic_object_name(topic), "namespace": values.namespace, "labels": cluster_labels(values)},
            "spec": {
                "topicName": topic,
                "partitions": kafka.partitions,
                "replicas": kafka.replication_factor,
                "config": {"min.insync.replicas": kafka.min_insync_replicas},
            },
        }
        for topic in all_topics(kafka.topic_prefix)
    ]
    rendered += [
        {
            "apiVersion": API,
            "kind": "KafkaUser",
            "metadata": {"name": kafka_user(service), "namespace": values.namespace, "labels": cluster_labels(values)},
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": strimzi_acls(service_acls(kafka.topic_prefix, service))},
            },
        }
        for service in SERVICES
    ]
    return rendered
