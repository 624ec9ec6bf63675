"""Admission: fair shares of the request workers, queue caps, cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent.cancellation import WorkCancelled, WorkScope, checkpoint
from agent.clock import FakeClock, SystemClock
from agent.service.admission import Admission, AdmissionLimits, AdmissionRefused


def _scope() -> WorkScope:
    return WorkScope(SystemClock())


class Gate:
    """Work that blocks until released (or its scope ends), recording who ran."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def work(self, name: str):
        def run() -> str:
            with self.lock:
                self.started.append(name)
            while not self.release.wait(0.005):
                checkpoint()
            return name

        return run


async def _until(predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def test_one_user_cannot_take_every_worker() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(workers=4, per_user=2, queue_per_user=16))
        gate = Gate()
        heavy = [
            asyncio.create_task(admission.run("reader", _scope(), gate.work(f"r{i}")))
            for i in range(8)
        ]
        await _until(lambda: len(gate.started) == 2)
        other = Gate()
        other.release.set()
        # A second user is served at once although eight requests of the first wait.
        assert await asyncio.wait_for(admission.run("admin", _scope(), other.work("a")), 5) == "a"
        assert len(gate.started) == 2 and admission.waiting("reader") == 6
        gate.release.set()
        assert sorted(await asyncio.gather(*heavy)) == sorted(f"r{i}" for i in range(8))
        assert admission.busy == 0
        admission.close()

    asyncio.run(scenario())


def test_waiting_users_are_served_round_robin() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(workers=1, per_user=1, queue_per_user=16))
        blocker = Gate()
        first = asyncio.create_task(admission.run("x", _scope(), blocker.work("x0")))
        await _until(lambda: blocker.started == ["x0"])
        order = Gate()
        order.release.set()
        tasks = [
            asyncio.create_task(admission.run("a", _scope(), order.work(f"a{i}"))) for i in range(3)
        ]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(admission.run("b", _scope(), order.work("b0"))))
        await asyncio.sleep(0.01)
        blocker.release.set()
        await asyncio.gather(first, *tasks)
        # b arrived after all of a's requests but is served second, not last.
        assert order.started[:2] == ["a0", "b0"]
        admission.close()

    asyncio.run(scenario())


def test_too_many_waiting_requests_are_refused() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(workers=1, per_user=1, queue_per_user=2))
        gate = Gate()
        running = [
            asyncio.create_task(admission.run("u", _scope(), gate.work(str(i)))) for i in range(3)
        ]
        await _until(lambda: admission.waiting("u") == 2)
        with pytest.raises(AdmissionRefused, match="limit: 2 waiting per user"):
            await admission.run("u", _scope(), gate.work("refused"))
        gate.release.set()
        await asyncio.gather(*running)
        assert "refused" not in gate.started
        admission.close()

    asyncio.run(scenario())


def test_cancelling_the_caller_stops_the_work_and_frees_the_worker() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(workers=1, per_user=1))
        gate = Gate()  # never released: only the cancellation can end it
        scope = _scope()
        task = asyncio.create_task(admission.run("u", scope, gate.work("stuck")))
        await _until(lambda: gate.started == ["stuck"])
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert scope.cancelled
        await _until(lambda: admission.busy == 0)
        done = Gate()
        done.release.set()
        assert await asyncio.wait_for(admission.run("u", _scope(), done.work("next")), 5) == "next"
        admission.close()

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(workers=1, per_user=1))
        gate = Gate()
        first = asyncio.create_task(admission.run("u", _scope(), gate.work("first")))
        await _until(lambda: gate.started == ["first"])
        waiter = asyncio.create_task(admission.run("u", _scope(), gate.work("never")))
        await _until(lambda: admission.waiting("u") == 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert admission.waiting() == 0
        gate.release.set()
        await first
        assert gate.started == ["first"] and admission.busy == 0
        admission.close()

    asyncio.run(scenario())


def test_scope_deadline_and_budget() -> None:
    clock = FakeClock()
    client = WorkScope(clock, client_timeout_s=1.0, budget_s=5.0)
    ours = WorkScope(clock, client_timeout_s=10.0, budget_s=2.0)
    client.check()
    ours.check()
    clock.advance(1.5)
    with pytest.raises(WorkCancelled) as stopped:
        client.check()
    assert stopped.value.reason.name == "DEADLINE"
    ours.check()
    clock.advance(1.0)
    with pytest.raises(WorkCancelled) as stopped:
        ours.check()
    assert stopped.value.reason.name == "BUDGET" and stopped.value.budget_s == 2.0


def test_checkpoint_outside_a_scope_does_nothing() -> None:
    checkpoint()


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        AdmissionLimits(workers=0)
