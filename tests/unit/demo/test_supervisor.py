"""Parts start in order and stop in reverse, even after a failure half-way."""

import asyncio

import pytest

from hyperfleet.demo.supervisor import Supervisor


class Recorder:
    def __init__(
        self, log: list[str], name: str, *, fail_start: bool = False, fail_stop: bool = False
    ):
        self.name = name
        self.log = log
        self.fail_start = fail_start
        self.fail_stop = fail_stop

    async def start(self) -> None:
        self.log.append(f"start {self.name}")
        if self.fail_start:
            raise RuntimeError("boom")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.fail_stop:
            raise RuntimeError("stuck")


async def test_parts_stop_in_reverse_order_after_a_stop_request():
    log: list[str] = []
    supervisor = Supervisor()
    for name in ("api", "broker", "adapter", "sentinel"):
        await supervisor.start(Recorder(log, name))
    waiter = asyncio.create_task(supervisor.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    supervisor.request_stop("test")
    await waiter
    await supervisor.stop_all()
    assert log == [
        "start api", "start broker", "start adapter", "start sentinel",
        "stop sentinel", "stop adapter", "stop broker", "stop api",
    ]  # fmt: skip
    assert supervisor.failure is None


async def test_a_part_that_fails_to_start_is_still_stopped_with_the_ones_before_it():
    log: list[str] = []
    supervisor = Supervisor()
    await supervisor.start(Recorder(log, "api"))
    with pytest.raises(RuntimeError):
        await supervisor.start(Recorder(log, "broker", fail_start=True))
    await supervisor.stop_all()
    assert log == ["start api", "start broker", "stop broker", "stop api"]


async def test_a_failing_stop_does_not_skip_the_rest_and_is_a_failure():
    log: list[str] = []
    supervisor = Supervisor()
    await supervisor.start(Recorder(log, "api"))
    await supervisor.start(Recorder(log, "adapter", fail_stop=True))
    await supervisor.stop_all()
    assert log == ["start api", "start adapter", "stop adapter", "stop api"]
    assert supervisor.failure is not None
    assert "adapter" in supervisor.failure


async def test_a_failed_part_stops_the_demo_with_a_failure():
    supervisor = Supervisor()
    supervisor.part_failed("sentinel-clusters", RuntimeError("api gone"))
    await asyncio.wait_for(supervisor.wait(), timeout=5)
    assert supervisor.failure is not None
    assert "sentinel-clusters" in supervisor.failure
