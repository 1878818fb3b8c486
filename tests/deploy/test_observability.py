"""The Grafana dashboard and the Prometheus alerts in deploy/observability, against the code.

A panel or an alert on a metric that no process exports shows nothing and
fires never, silently; so every name they use must be one the processes
register, every metric the platform defines must be on the dashboard, and
every alert must say what is wrong and link to its runbook in
docs/operations.md.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
ALERTS = OBSERVABILITY / "alerts.yml"
OPERATIONS = ROOT / "docs" / "operations.md"

# Importing them registers every metric of every process (the default registry).
MODULES = ("gateway.main", "auth.main", "wishlists.main", "notifier.main")
# Recorded by Prometheus itself for each scrape target.
PROMETHEUS_OWN = {"up"}
# prometheus_client's own collectors, on every process but not ours to chart.
RUNTIME_PREFIXES = ("python_", "process_")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


@functools.cache
def exported() -> dict[str, set[str]]:
    """Family name → the sample names it exposes, for every registered metric."""
    for module in MODULES:
        importlib.import_module(module)
    return {
        family.name: {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
        for family in REGISTRY.collect()
    }


def exported_samples() -> set[str]:
    return set().union(*exported().values())


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors ($__rate_interval too)
    expr = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr
    )  # grouping label lists
    names = set()
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", expr):
        if match.group(2) is None and match.group(1) not in _KEYWORDS:
            names.add(match.group(1))
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            exprs += [t["expr"] for t in inner.get("targets", [])]
    return exprs


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a document's headings."""
    found = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_the_name_parser_finds_metrics_and_skips_functions_labels_and_ranges() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (queue, le) (rate(a_seconds_bucket{x="y"}'
        "[$__rate_interval]))) / ignoring(le) b_total > 0 and on (q) up"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "up"}


def test_every_dashboard_query_reads_only_metrics_the_processes_export() -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    used = set().union(*(metric_names(e) for e in exprs))
    assert used, "no metric found in the dashboard"
    assert used - exported_samples() == set()


def test_every_metric_the_platform_defines_is_on_the_dashboard() -> None:
    used = set().union(*(metric_names(e) for e in dashboard_exprs()))
    ours = {
        family: samples
        for family, samples in exported().items()
        if not family.startswith(RUNTIME_PREFIXES)
    }
    # A sanity check that the registry was filled: the metrics docs/operations.md names.
    assert {"http_requests", "outbox_oldest_pending_age_seconds", "auth_login_attempts"} <= set(
        ours
    )
    assert sorted(family for family, samples in ours.items() if not samples & used) == []


def test_every_alert_reads_exported_metrics_and_says_what_to_do() -> None:
    rules = alert_rules()
    assert len(rules) >= 8
    runbooks = anchors(OPERATIONS.read_text())
    for rule in rules:
        name = rule["alert"]
        assert metric_names(rule["expr"]) - exported_samples() - PROMETHEUS_OWN == set(), name
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        annotations = rule["annotations"]
        assert annotations["summary"].strip(), name
        assert annotations["description"].strip(), name
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page == "docs/operations.md", name
        assert anchor in runbooks, f"{name}: no heading #{anchor} in docs/operations.md"


@pytest.mark.parametrize(
    "metric",
    [
        "outbox_oldest_pending_age_seconds",
        "consumer_messages_dead_lettered_total",
        "http_requests_total",
        "readiness_check_up",
        "gateway_notifications_dropped_total",
        "auth_login_attempts_total",
    ],
)
def test_the_alerts_watch_what_the_runbook_promises(metric: str) -> None:
    watched = set().union(*(metric_names(rule["expr"]) for rule in alert_rules()))
    assert metric in watched


def test_every_metric_is_described_in_the_operations_doc() -> None:
    text = OPERATIONS.read_text()
    families = [f for f in exported() if not f.startswith(RUNTIME_PREFIXES)]
    named = set(re.findall(r"`(\w+)", text))
    # A histogram by its own name, a counter by its sample's (`..._total`).
    missing = [f for f in families if not ({f} | exported()[f]) & named]
    assert missing == []


# --- the alert rules, evaluated by Prometheus's own rule engine ---------------


def _rendered(rule: dict[str, Any], labels: dict[str, str], value: str) -> dict[str, str]:
    """A rule's annotations as Prometheus renders them for ``labels`` and ``value``.

    Enough of Go's templates for the rules tested here: label and value
    substitutions, nothing else (a rule using more would fail its test loudly).
    """
    rendered = {}
    for key, template in rule["annotations"].items():
        text = template.replace("{{ $value }}", value)
        for name, label in labels.items():
            text = text.replace(f"{{{{ $labels.{name} }}}}", label)
        assert "{{" not in text, f"{rule['alert']}: cannot render {text!r} here"
        rendered[key] = text
    return rendered


def promtool_test(
    tmp_path: Path, series: dict[str, str], expected: list[tuple[str, str, list[dict[str, str]]]]
) -> None:
    """Runs ``promtool test rules``: ``series`` fed in, each (eval time, alert) firing as listed.

    An expected firing is its labels (besides the rule's own) and the value
    its annotations show; an empty list means the alert must not fire then.
    """
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make system-packages` installs it (Debian: prometheus)")
    rules = {rule["alert"]: rule for rule in alert_rules()}
    alert_tests = []
    for eval_time, name, firings in expected:
        rule = rules[name]
        exp_alerts = []
        for firing in firings:
            labels = {k: v for k, v in firing.items() if k != "value"}
            exp_alerts.append(
                {
                    "exp_labels": {**rule["labels"], **labels},
                    "exp_annotations": _rendered(rule, labels, firing["value"]),
                }
            )
        alert_tests.append({"eval_time": eval_time, "alertname": name, "exp_alerts": exp_alerts})
    document = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": alert_tests,
            }
        ],
    }
    path = tmp_path / "alerts_test.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_outbox_rows_parked_fires_as_soon_as_a_relay_counts_one(tmp_path: Path) -> None:
    promtool_test(
        tmp_path,
        {
            # Two replicas of wishlists sample the same outbox; auth has none parked.
            'outbox_parked_events{outbox="wishlists", instance="w1"}': "0 0 1 1 2",
            'outbox_parked_events{outbox="wishlists", instance="w2"}': "0 0 0 1 2",
            'outbox_parked_events{outbox="auth", instance="a1"}': "0 0 0 0 0",
        },
        [
            ("1m", "OutboxRowsParked", []),
            ("2m", "OutboxRowsParked", [{"outbox": "wishlists", "value": "1"}]),
            ("4m", "OutboxRowsParked", [{"outbox": "wishlists", "value": "2"}]),
        ],
    )


def test_dead_letter_queue_not_empty_fires_after_ten_minutes_of_waiting_messages(
    tmp_path: Path,
) -> None:
    promtool_test(
        tmp_path,
        {
            'dead_letter_queue_messages{queue="notifier.item_reserved", instance="n1"}': "0 3x15",
            'dead_letter_queue_messages{queue="notifier.item_added", instance="n1"}': "0x15",
        },
        [
            ("5m", "DeadLetterQueueNotEmpty", []),
            (
                "12m",
                "DeadLetterQueueNotEmpty",
                [{"queue": "notifier.item_reserved", "value": "3"}],
            ),
        ],
    )


def test_the_alert_rules_load_in_prometheus() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make system-packages` installs it (Debian: prometheus)")
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
