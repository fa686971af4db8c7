#!/usr/bin/env bash
# docker-compose.yml's Kafka node (the apache/kafka image, one KRaft node: broker and controller), set
# up as `infra.stack` sets up development's: clients connect over TLS with a SCRAM-SHA-512 login per
# service, the node talks to itself over mutual TLS with the broker certificate, and a login does only
# what an ACL lets it (`python -m infra.deploy kafka` grants them). The TLS files come from the
# `kafka-tls` job; the logins are written when the storage is formatted, at the first start, from
# <LOGIN>_KAFKA_PASSWORD (changing one later: kafka-configs.sh --alter --add-config SCRAM-SHA-512=...).
set -euo pipefail

CLUSTER_ID=bW90Y3VhLWthZmthLTAwMQ # as infra/stack.py's: any 22-character base64 UUID, fixed
LOGINS=(intake routing deadline notify operator)
config=/opt/kafka/config/motcua.properties
data=/var/lib/kafka/data

cat >"$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
listeners=CLIENT://:9092,BROKER://:9094,CONTROLLER://:9093
advertised.listeners=CLIENT://kafka:9092,BROKER://kafka:9094
controller.listener.names=CONTROLLER
inter.broker.listener.name=BROKER
listener.security.protocol.map=CLIENT:SASL_SSL,BROKER:SSL,CONTROLLER:SSL
ssl.keystore.type=PEM
ssl.keystore.location=/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=/tls/ca.pem
listener.name.broker.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]*),.*\$/\$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:broker;User:operator
log.dirs=$data
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
unclean.leader.election.enable=false
log.retention.hours=168
PROPERTIES

# The health check's client: mutual TLS on the brokers' own listener, no password on disk.
cat >/opt/kafka/config/healthcheck.properties <<PROPERTIES
security.protocol=SSL
ssl.keystore.type=PEM
ssl.keystore.location=/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=/tls/ca.pem
PROPERTIES

if [ ! -f "$data/meta.properties" ]; then
  scram=()
  for login in "${LOGINS[@]}"; do
    password_var="${login^^}_KAFKA_PASSWORD"
    scram+=(--add-scram "SCRAM-SHA-512=[name=$login,password=${!password_var:?$password_var is required}]")
  done
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$config" "${scram[@]}"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
