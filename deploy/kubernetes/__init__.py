"""MotCua's Kubernetes manifests, rendered from one values file (`values.yaml` here) by
`python -m deploy.kubernetes`: the services and the console (`apps`), Keycloak (`identity`), the
Strimzi Kafka cluster with its topics and logins (`kafka`) and the CloudNativePG cluster (`postgres`);
`secrets` makes the Secrets they expect, `vendor_crds` brings the operators' CRDs the tests check against."""
