# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/intake-service:$(CURDIR)/routing-service:$(CURDIR)/deadline-service:$(CURDIR)/notify-service

.PHONY: install run test bench stack-up stack-down event-docs

install:
	@bash scripts/install.sh

run: install
	@$(PY) -m infra.demo

test: install
	@$(PY) -m pytest

stack-up: install
	@$(PY) -m infra.stack up

stack-down:
	@$(PY) -m infra.stack down

event-docs:
	@$(PY) -m services.events

bench: install
	@$(PY) -m bench
