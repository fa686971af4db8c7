"""What the IT centre watches: the alert rules (deploy/prometheus/alerts.yml) and the Grafana
dashboard (deploy/grafana/motcua.json). Every expression is parsed by a PromQL parser (the Rust
one Prometheus-compatible tools use, through its Python bindings; promtool is not installed), and
every metric it reads must exist: declared by a service's code (checked without infrastructure),
and on the /metrics of a running service (checked with the four services up)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from infra.stack import Stack
from tests.conftest import BIRTH_GROUP, System, eventually

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "motcua.json"
# Series Prometheus makes itself for each target, not any service's.
FROM_PROMETHEUS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
JOBS = {"intake", "routing", "deadline", "notify"}
# What each alert must be about (the list): a metric each reads.
WATCHED = {
    "consumer lag": "motcua_consumer_lag",
    "outbox backlog / oldest age": "motcua_outbox_oldest_unpublished_age_seconds",
    "relay without a leader": "motcua_outbox_relay_leader",
    "parked events": "motcua_parked_oldest_age_seconds",
    "dead letters": "motcua_dead_letters_pending",
    "notices failed by channel": "motcua_notify_notices_failed_total",
    "timers due but unfired": "motcua_deadline_timers_due_unfired",
    "LGSP deliveries failing": "motcua_routing_exchanges_total",
    "LGSP deliveries given up": "motcua_routing_exchange_failing",
    "on-time rate": "motcua_deadline_on_time_ratio",
    "service down": "up",
    "5xx ratio": "motcua_http_request_seconds_count",
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads, from its syntax tree (raises on a syntax error)."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in board["panels"] for target in panel["targets"]]


def used_metrics() -> dict[str, str]:
    """Metric name -> where it is used first (an alert's or a panel's name)."""
    used: dict[str, str] = {}
    for rule in alert_rules():
        for name in metric_names(rule["expr"]):
            used.setdefault(name, f"alert {rule['alert']}")
    for title, expr in dashboard_queries():
        for name in metric_names(expr):
            used.setdefault(name, f"panel {title!r}")
    return used


def exposed_names(families: Iterator[Any]) -> set[str]:
    """Every series name a scrape shows: counters as <name>_total, histograms as _bucket/_sum/_count."""
    names: set[str] = set()
    for family in families:
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def test_the_alert_rules_parse_and_each_says_in_plain_words_what_is_wrong_and_what_to_do() -> None:
    rules = alert_rules()
    assert len({r["alert"] for r in rules}) == len(rules), "alert names are unique"
    for rule in rules:
        assert metric_names(rule["expr"]), f"{rule['alert']} reads a metric"
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        if "for" in rule:  # absent: it fires at the first evaluation that finds it true
            promql_parser.parse_duration(rule["for"])
    read = set().union(*(metric_names(r["expr"]) for r in rules))
    missing = {what: name for what, name in WATCHED.items() if name not in read}
    assert not missing, f"no alert reads {missing}"
    prometheus = yaml.safe_load(PROMETHEUS.read_text())
    assert prometheus["rule_files"] == ["alerts.yml"]
    assert {job["job_name"] for job in prometheus["scrape_configs"]} == JOBS


def test_the_dashboard_queries_parse_and_cover_the_watched_metrics() -> None:
    queries = dashboard_queries()
    assert queries
    read: set[str] = set()
    for title, expr in queries:
        names = metric_names(expr)
        assert names, f"panel {title!r} reads a metric"
        read |= names
    assert set(WATCHED.values()) - {"up"} <= read, set(WATCHED.values()) - {"up"} - read


def test_every_metric_the_alerts_and_dashboard_read_is_declared_by_a_service() -> None:
    """Without infrastructure: importing the four services declares their metrics in the registry."""
    import deadline.service
    import intake.service
    import notify.service
    import routing.service

    assert intake.service and routing.service and deadline.service and notify.service
    declared = exposed_names(REGISTRY.collect())
    unknown = {name: where for name, where in used_metrics().items() if name not in declared | FROM_PROMETHEUS}
    assert not unknown, f"read but declared by no service: {unknown}"


@pytest.fixture(scope="module")
def scraped(system: System) -> dict[str, set[str]]:
    """Each running service's series names, once a dossier has gone through (so request latencies
    exist) and every consumer holds its partitions (so its lag is set)."""
    system.submit(BIRTH_GROUP)
    used = set(used_metrics()) - FROM_PROMETHEUS

    def scrape() -> dict[str, set[str]]:
        return {
            name: exposed_names(text_string_to_metric_families(system.http.get(f"{system.url(name)}/metrics").text))
            for name in JOBS
        }

    def complete() -> dict[str, set[str]] | None:
        seen = scrape()
        return seen if used <= set().union(*seen.values()) else None

    try:
        return eventually(complete, timeout=60, what="every metric the alerts and dashboard read")
    except AssertionError:
        return scrape()  # the tests below name what is missing


def test_each_alert_rules_and_dashboard_querys_metric_exists_on_a_running_service(scraped: dict[str, set[str]]) -> None:
    on_some_service = set().union(*scraped.values())
    missing = {name: where for name, where in used_metrics().items() if name not in on_some_service | FROM_PROMETHEUS}
    assert not missing, f"on no service's /metrics: {missing}"


def test_the_services_show_where_dossiers_wait(scraped: dict[str, set[str]]) -> None:
    """Each gauge is on the service that knows it: lag wherever a consumer runs, timers on
    deadline, failing exchanges on routing, failed notices on notify."""
    for name in ("routing", "deadline", "notify"):
        assert "motcua_consumer_lag" in scraped[name], name
    assert {"motcua_deadline_timers_due_unfired", "motcua_deadline_on_time_ratio"} <= scraped["deadline"]
    assert "motcua_routing_exchange_failing" in scraped["routing"]
    assert "motcua_notify_notices_failed_total" in scraped["notify"]
    for name in JOBS:
        assert {"motcua_outbox_backlog", "motcua_parked_oldest_age_seconds", "motcua_outbox_relay_leader"} <= scraped[name]


def sample(system: System, service: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    text = system.http.get(f"{system.url(service)}/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and (labels or {}).items() <= s.labels.items():
                return s.value
    return None


def test_a_timer_the_tick_cannot_fire_and_a_delivery_given_up_show_on_the_next_scrape(system: System, stack: Stack) -> None:
    """A timer past its firing time whose deadline row is gone (the tick's claim never finds it), and
    an LGSP delivery out of attempts: read from the tables at the scrape, not counted in memory."""
    database = system.env["DATABASE_URL"].rsplit("/", 1)[1]
    assert sample(system, "deadline", "motcua_deadline_timers_due_unfired") == 0
    # Nothing resolved yet this month: the ratio read from the tables is 1 (the gauge starts at 0).
    assert sample(system, "deadline", "motcua_deadline_on_time_ratio") == 1.0
    failed = {"queue": "deliveries", "state": "failed"}
    assert sample(system, "routing", "motcua_routing_exchange_failing", failed) == 0
    stuck = "'00000000-0000-4000-8000-00000000f1a6'"
    stack.postgres.psql(
        "INSERT INTO deadline.timers (dossier_id, scope, step_id, kind, due_at, fire_at) "
        f"VALUES ({stuck}, 'dossier', '', 'overdue', now() - interval '1 hour', now() - interval '1 hour')",
        database=database,
    )
    stack.postgres.psql(
        "INSERT INTO routing.deliveries (request_id, dossier_id, step_id, agency_code, endpoint, payload, state, attempts, last_error) "
        f"VALUES (gen_random_uuid(), {stuck}, 'tax', 'CT', 'http://127.0.0.1:9/', '{{}}', 'failed', 8, 'connection refused')",
        database=database,
    )
    try:
        assert sample(system, "deadline", "motcua_deadline_timers_due_unfired") == 1
        assert (sample(system, "deadline", "motcua_deadline_timers_due_unfired_oldest_seconds") or 0) >= 3600
        assert sample(system, "routing", "motcua_routing_exchange_failing", failed) == 1
    finally:
        stack.postgres.psql(f"DELETE FROM deadline.timers WHERE dossier_id = {stuck}", database=database)
        stack.postgres.psql(f"DELETE FROM routing.deliveries WHERE dossier_id = {stuck}", database=database)
