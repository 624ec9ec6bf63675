"""Short requests first: long work steps aside at checkpoints while fresh work runs."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest

from agent.cancellation import WorkScope, checkpoint
from agent.clock import SystemClock
from agent.precedence import Precedence, ShortFirst
from agent.service.admission import Admission, AdmissionLimits

RULES = Precedence(quantum_ns=1_000, max_wait_ns=1_000_000, min_run_ns=500)


class CpuClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_fresh_work_never_waits_and_long_work_waits_only_for_fresh() -> None:
    cpu = CpuClock()
    arbiter = ShortFirst(RULES, cpu_ns=cpu)
    long = arbiter.start()
    cpu.now = 2_000  # past the quantum: long, and nothing fresh runs
    long.step()
    assert (arbiter.fresh, arbiter.waits) == (0, 0)
    fresh = arbiter.start()
    fresh.step()  # fresh work within its quantum goes on
    assert (arbiter.fresh, arbiter.waits) == (1, 0)
    long.step()  # long work waits while fresh work runs (bounded by max_wait_ns)
    assert arbiter.waits == 1
    long.step()  # then runs min_run_ns before it waits again
    assert arbiter.waits == 1
    cpu.now += 600
    long.step()
    assert arbiter.waits == 2
    fresh.end()
    cpu.now += 600
    long.step()
    assert (arbiter.fresh, arbiter.waits) == (0, 2)
    long.end()


def test_fresh_work_turns_long_after_its_quantum() -> None:
    cpu = CpuClock()
    arbiter = ShortFirst(RULES, cpu_ns=cpu)
    first, second = arbiter.start(), arbiter.start()
    assert arbiter.fresh == 2
    cpu.now = 1_500
    first.step()
    assert arbiter.fresh == 1
    second.end()
    first.end()
    assert arbiter.fresh == 0


@pytest.fixture
def one_core() -> Iterator[None]:
    """This thread, and the worker threads it starts, on one core: there a thread that
    offers the interpreter lock hands it over (on several cores the waiting thread may
    wake too late to take it, and the short request then simply keeps it)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def test_a_long_request_steps_aside_for_a_short_one_in_the_pool(one_core: None) -> None:
    admission = Admission(
        AdmissionLimits(precedence=Precedence(quantum_ns=20_000_000, max_wait_ns=50_000_000))
    )
    clock = SystemClock()
    short_running = threading.Event()
    long_going = threading.Event()
    stop = threading.Event()
    seen: list[int] = []

    def long_work() -> int:
        steps = 0
        while not stop.is_set():
            checkpoint()
            steps += 1
            long_going.set()
        return steps

    def short_work() -> int:
        short_running.set()
        seen.append(admission.short_first.fresh if admission.short_first else -1)
        for _ in range(2_000_000):  # until the long request has stepped aside once
            checkpoint()
            if admission.short_first is not None and admission.short_first.waits:
                break
        return 1

    async def main() -> None:
        scope = WorkScope(clock, budget_s=30)
        running = asyncio.ensure_future(admission.run("alice", scope, long_work))
        while not long_going.is_set():
            await asyncio.sleep(0.001)
        while admission.short_first is not None and admission.short_first.fresh:
            await asyncio.sleep(0.005)  # until the long request is past its quantum
        assert await admission.run("bob", WorkScope(clock, budget_s=30), short_work) == 1
        stop.set()
        await running

    asyncio.run(main())
    admission.close()
    assert short_running.is_set() and seen == [1]
    assert admission.short_first is not None and admission.short_first.waits >= 1
    assert admission.short_first.fresh == 0


def test_a_commit_counts_as_fresh_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """While a write runs under the writer lock, long reads step aside for it."""
    from agent.app import build_agent
    from tests.northbound.harness import FAST_SCRYPT, agent_settings

    agent = build_agent(agent_settings(tmp_path / "state"), scrypt=FAST_SCRYPT)
    try:
        writes, arbiter = agent.core.writes, agent.core.admission.short_first
        assert arbiter is not None
        seen: list[int] = []
        writes._perform = lambda request: seen.append(arbiter.fresh)  # type: ignore[method-assign]
        writes._perform_first(None)  # type: ignore[arg-type]
        assert seen == [1] and arbiter.fresh == 0
    finally:
        agent.core.admission.close()
        agent.audit.close()
