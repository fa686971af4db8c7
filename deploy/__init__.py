"""How MotCua is deployed beyond one machine: `deploy.kubernetes` renders its Kubernetes manifests."""
