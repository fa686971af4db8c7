# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/intake-service:$(CURDIR)/routing-service:$(CURDIR)/deadline-service:$(CURDIR)/notify-service:$(CURDIR)/web-service

.PHONY: install run test lint chaos bench stack-up stack-down event-docs

install:
	@bash scripts/install.sh

run: install
	@$(PY) -m infra.demo

test: install lint
	@$(PY) -m pytest

# Formatting and lint rules are in pyproject.toml; `ruff format .` and `ruff check --fix .` apply them.
lint: install
	@$(PY) -m ruff format --check --quiet .
	@$(PY) -m ruff check --quiet .

# The fault test in full: 10,000 dossiers on the three-broker cluster while service replicas, brokers
# and the database are killed and relay holders frozen.
chaos: install
	@CHAOS_DOSSIERS=$${CHAOS_DOSSIERS:-10000} $(PY) -m pytest tests/test_chaos.py -s

stack-up: install
	@$(PY) -m infra.stack up

stack-down:
	@$(PY) -m infra.stack down

event-docs:
	@$(PY) -m services.events

bench: install
	@$(PY) -m bench
