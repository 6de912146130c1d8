"""The SDK's ACK/NACK policy on the in-process broker, with an in-memory stand-in for the API
port (`ApiPort`): transient → NACK and redelivery (then the dead-letter queue); terminal →
Health=False reported and ACKed; a malformed event never reaches the adapter; any event whose
data names a resource is accepted (any type, absolute href, repeated ids).
"""

# ruff: noqa: ARG002, A002 - MemoryApi keeps the port's signatures, whatever it uses of them

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest
from cloudevents.core.v1.event import CloudEvent

from hyperfleet.adapters import Adapter, Context, Outcome, TerminalError, TransientError
from hyperfleet.adapters.metrics import AdapterMetrics
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import ResourceHint, reconcile_event
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.client import ConflictError, NotFoundError, ServerError
from hyperfleet.client.types import AdapterStatus, Page, Resource

FAST = BrokerSettings(retry_delay_seconds=0.01, retry_max_delay_seconds=0.02, dlq_attempts=3)
TOPIC = "hyperfleet-clusters"
RID = "019466a0-8f8e-7abc-9def-0123456789ab"


class MemoryApi:
    """The four calls the SDK makes, over dicts; `fail_gets` makes the next GETs answer 503."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.reports: dict[tuple[str, str], AdapterStatus] = {}
        self.sent: list[dict[str, Any]] = []
        self.config: dict[str, Any] = {
            "entities": [{"kind": "Cluster", "adapter_dependencies": {}}]
        }
        self.fail_gets = 0
        self.refuse_progress: list[str] = []
        """While set, reports claiming progress get 409 CNF-005 with this blocked_by."""

    def add(self, generation: int = 1, **fields: Any) -> Resource:
        resource: Any = {
            "id": RID,
            "kind": "Cluster",
            "name": "c1",
            "href": f"/api/hyperfleet/v1/clusters/{RID}",
            "generation": generation,
            "spec": {},
            "status": {"conditions": [], "adapters": []},
            **fields,
        }
        self.resources[RID] = resource
        return resource

    async def get(self, collection: str, id: str) -> Resource:
        if self.fail_gets:
            self.fail_gets -= 1
            raise ServerError(503, detail="unavailable")
        if id not in self.resources:
            raise NotFoundError(404, code="HYPERFLEET-NTF-001", detail="gone")
        return self.resources[id]

    async def statuses(
        self,
        collection: str,
        id: str,
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[AdapterStatus]:
        items = [r for (rid, _), r in self.reports.items() if rid == id]
        return Page(items, len(items), page or 1, len(items), None, b"")

    async def report_status(
        self,
        collection: str,
        id: str,
        report: Mapping[str, Any],
    ) -> AdapterStatus | None:
        self.sent.append(dict(report))
        claims = {c["type"]: c["status"] for c in report["conditions"]}
        if self.refuse_progress and "True" in {claims["Applied"], claims["Available"]}:
            raise ConflictError(
                409,
                code="HYPERFLEET-CNF-005",
                detail="blocked",
                extensions={"blocked_by": self.refuse_progress},
            )
        stored: Any = {**report, "state": "?", "created_time": "", "last_report_time": ""}
        self.reports[(id, report["adapter"])] = stored
        return stored

    async def aggregation_config(self) -> dict[str, Any]:
        return self.config


class Scripted(Adapter):
    """Raises the scripted errors in order, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def reconcile(self, resource: Resource, ctx: Context) -> Outcome:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return Outcome.ready(f"done at {ctx.generation}")


async def until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def start(adapter: Adapter, api: MemoryApi) -> tuple[InProcessBroker, AdapterRunner]:
    broker = InProcessBroker(FAST)
    runner = AdapterRunner(
        adapter,
        name="dns",
        kind="Cluster",
        client=api,
        subscriber=broker.subscriber("dns"),
        topic=TOPIC,
        metrics=AdapterMetrics(),
    )
    await runner.start()
    return broker, runner


def event(**data: Any) -> CloudEvent:
    return CloudEvent(
        {"id": data.pop("event_id", "e1"), "type": data.pop("type", "x.y"), "source": "test"},
        data,
    )


def available(report: Mapping[str, Any]) -> dict[str, Any]:
    return next(c for c in report["conditions"] if c["type"] == "Available")


def health(report: Mapping[str, Any]) -> dict[str, Any]:
    return next(c for c in report["conditions"] if c["type"] == "Health")


def processed(runner: AdapterRunner, outcome: str) -> float:
    value = runner.reconciler.metrics.registry.get_sample_value(
        "hyperfleet_adapter_events_processed_total",
        {"adapter": "dns", "kind": "Cluster", "outcome": outcome},
    )
    return value or 0.0


async def test_transient_error_is_nacked_and_redelivered_until_it_succeeds():
    api = MemoryApi()
    api.add()
    adapter = Scripted(TransientError("try later"), TransientError("again"))
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 1)
    assert adapter.calls == 3
    assert available(api.sent[0])["status"] == "True"
    assert processed(runner, "transient") == 2
    assert processed(runner, "reconciled") == 1
    assert not broker.dead_letters
    await runner.stop()


async def test_api_unavailable_is_transient_and_ends_in_the_dead_letter_queue():
    api = MemoryApi()
    api.add()
    api.fail_gets = 100
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(broker.dead_letters[f"{TOPIC}-dns"]) == 1)
    assert adapter.calls == 0
    assert api.sent == []
    assert processed(runner, "transient") == FAST.dlq_attempts
    await runner.stop()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TerminalError("InvalidSpec", "spec.region is not a region"), "InvalidSpec"),
        (KeyError("x"), "AdapterError"),
    ],
)
async def test_terminal_error_reports_health_false_and_is_acked(error: Exception, reason: str):
    api = MemoryApi()
    api.add()
    adapter = Scripted(error)
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 1)
    await until(lambda: processed(runner, "terminal") == 1)
    report = api.sent[0]
    assert health(report)["status"] == "False"
    assert health(report)["reason"] == reason
    assert health(report)["message"]
    assert {c["type"]: c["status"] for c in report["conditions"]}["Applied"] == "False"
    assert adapter.calls == 1  # ACKed: not delivered again
    assert not broker.dead_letters
    # The next Sentinel event retries it: a terminal error does not settle the generation.
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 2)
    assert available(api.sent[1])["status"] == "True"
    await runner.stop()


async def test_malformed_events_never_reach_the_adapter():
    api = MemoryApi()
    api.add()
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    await broker.publish_bytes(TOPIC, b"not json at all")
    await broker.publisher().publish(TOPIC, event(kind="Cluster"))  # no id
    await broker.publisher().publish(TOPIC, event(id=RID))  # no kind
    await broker.publish_bytes(TOPIC, json.dumps({"specversion": "1.0", "data": {}}).encode())
    await until(lambda: processed(runner, "malformed") == 2)
    await until(lambda: len(broker.dead_letters[f"{TOPIC}-dns"]) == 2)
    assert adapter.calls == 0
    assert api.sent == []
    await runner.stop()


async def test_any_event_naming_the_resource_is_accepted_and_repeats_only_resend():
    api = MemoryApi()
    api.add()
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    variants = [
        reconcile_event(ResourceHint(id=RID, kind="Cluster", generation=1)),
        event(id=RID, kind="Cluster", type="com.redhat.hyperfleet.cluster.reconcile.v1"),
        event(
            id=RID,
            kind="cluster",
            href=f"https://elsewhere.example/api/hyperfleet/v1/clusters/{RID}",
        ),
        event(id=RID, kind="Cluster", generation="7", event_id="same"),
        event(id=RID, kind="Cluster", event_id="same"),
    ]
    for variant in variants:
        await broker.publisher().publish(TOPIC, variant)
    await until(lambda: len(api.sent) == len(variants))
    assert adapter.calls == 1  # the first did the work; the rest re-sent it
    assert processed(runner, "skipped") == len(variants) - 1
    for report in api.sent:
        assert report["data"] == {"reconciled_generation": 1, "reconcile_count": 1}
        assert available(report)["status"] == "True"
    await runner.stop()


async def test_events_for_another_kind_or_a_gone_resource_are_acked_without_work():
    api = MemoryApi()
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="NodePool"))
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: processed(runner, "ignored") == 1 and processed(runner, "gone") == 1)
    assert adapter.calls == 0
    assert api.sent == []
    assert not broker.dead_letters
    await runner.stop()


async def test_dependencies_from_the_config_and_status_make_the_adapter_wait():
    api = MemoryApi()
    api.config = {
        "entities": [{"kind": "Cluster", "adapter_dependencies": {"dns": ["validation"]}}]
    }
    api.add(
        status={
            "conditions": [],
            "adapters": [
                {
                    "adapter": "validation",
                    "state": "Provisioning",
                    "observed_generation": 1,
                    "required": True,
                    "blocked_by": [],
                }
            ],
        }
    )
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 1)
    assert available(api.sent[0])["reason"] == "WaitingForDependencies"
    assert adapter.calls == 0

    api.resources[RID]["status"]["adapters"][0]["state"] = "Ready"
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 2)
    assert available(api.sent[1])["status"] == "True"
    assert adapter.calls == 1
    await runner.stop()


async def test_a_dependency_conflict_from_the_api_becomes_the_waiting_report():
    api = MemoryApi()
    api.add()
    api.refuse_progress = ["validation"]
    adapter = Scripted()
    broker, runner = await start(adapter, api)
    await broker.publisher().publish(TOPIC, event(id=RID, kind="Cluster"))
    await until(lambda: len(api.sent) == 2)
    await until(lambda: processed(runner, "waiting") == 1)
    refused, waiting = api.sent
    assert available(refused)["status"] == "True"
    assert available(waiting)["reason"] == "WaitingForDependencies"
    assert "validation" in available(waiting)["message"]
    assert {c["type"]: c["status"] for c in waiting["conditions"]}["Applied"] == "False"
    await runner.stop()
