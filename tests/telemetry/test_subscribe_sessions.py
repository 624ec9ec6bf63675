"""Subscribe streams follow the user database (over real gRPC, with hand-driven time).

The server's user store sees a change made by "another process" (a second UserStore on
the same file, as `edge-agent user` is) or through its own API. Most tests run the
guard's check by hand (``tick``); one drives its periodic task with a ManualTimer on a
FakeClock of its own (the guard's task ends with the last stream, and a ManualTimer
needs a waiting task, so that test keeps another stream open).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.clock import FakeClock
from agent.schema.engine import SchemaEngine
from agent.security.audit import AuditLog, Outcome, read_audit_log
from agent.security.passwords import ScryptParams
from agent.security.sessions import SessionGuard
from agent.security.users import Role, UserStore
from agent.telemetry.timer import ManualTimer
from tests.telemetry.harness import (
    Server,
    Site,
    Stream,
    leaves_of,
    run,
    subscription_list,
    within,
)

FAST = ScryptParams(n=16, r=1, p=1)
S = 1_000_000_000
ON_CHANGE, SAMPLE = 1, 2
TOR = "tor-tf1/1"
STATUS = f"/ports/port[name={TOR}]/state/oper-status"
COUNTERS = f"/ports/port[name={TOR}]/state/counters"
READER = ("reader", "reader-pw")
OTHER = ("other", "other-pw")


@dataclass
class Agent:
    site: Site
    server: Server
    users: UserStore  # the server's own store
    cli: UserStore  # another process on the same file
    guard: SessionGuard
    timer: ManualTimer
    audit_dir: Path

    async def tick(self, count: int = 1) -> None:
        """Runs ``count`` checks of the guard, as its task does every interval."""
        for _ in range(count):
            self.guard.check()
            await asyncio.sleep(0)

    async def open(self, login: tuple[str, str], *paths: str, **options: Any) -> Stream:
        stream = self.server.open(subscription_list(*paths or (STATUS,), **options), login)
        await stream.until_sync()
        return stream


Body = Callable[[Agent], Awaitable[None]]


@pytest.fixture
def scenario(engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]) -> Callable[[Body], None]:
    def go(body: Body) -> None:
        async def main() -> None:
            users_file = tmp_path / "users" / "users.json"
            users = UserStore(users_file, scrypt=FAST, recheck_s=0.5)
            users.add(READER[0], Role.READ_ONLY, READER[1])
            users.add(OTHER[0], Role.READ_ONLY, OTHER[1])
            clock = FakeClock()
            timer = ManualTimer(clock)
            audit = AuditLog(tmp_path / "audit")
            guard = SessionGuard(users, clock, timer=timer, audit=audit)
            agent_site = await Site(engine, tmp_path / "state", site).start()
            server = await Server(agent_site, users=users, sessions=guard).start()
            cli = UserStore(users_file, scrypt=FAST)
            agent = Agent(agent_site, server, users, cli, guard, timer, tmp_path / "audit")
            try:
                await body(agent)
            finally:
                await server.stop()
                await agent_site.stop()
                audit.close()

        run(main())

    return go


def test_a_removed_user_s_stream_ends_unauthenticated(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        stream = await agent.open(READER, stream_mode=ON_CHANGE)
        await agent.tick(3)  # nothing changed: the stream stays open
        assert agent.guard.watching == 1
        agent.cli.remove("reader")
        await agent.tick()
        code, details = await stream.status()
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert details == "user 'reader' was removed: the subscription has ended"
        records = [r for r in read_audit_log(agent.audit_dir) if r.rpc.endswith("Subscribe")]
        assert [(r.user, r.outcome, r.code) for r in records] == [
            ("reader", Outcome.DENIED, "UNAUTHENTICATED")
        ]

    scenario(body)


def test_a_new_password_ends_the_stream_unauthenticated(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        stream = await agent.open(READER, stream_mode=ON_CHANGE)
        agent.cli.set_password("reader", "new-pw")
        await agent.tick()
        code, details = await stream.status()
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert "password of user 'reader' was changed" in details
        fresh = await agent.open(("reader", "new-pw"), stream_mode=ON_CHANGE)
        await agent.tick(2)
        assert agent.guard.watching == 1
        fresh.cancel()

    scenario(body)


def test_a_new_role_ends_the_stream_permission_denied(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        stream = await agent.open(READER, stream_mode=ON_CHANGE)
        agent.users.set_role("reader", Role.ADMIN)  # in process, through the API
        await agent.tick()
        code, details = await stream.status()
        assert code is grpc.StatusCode.PERMISSION_DENIED
        assert "role of user 'reader' changed" in details and "subscribe again" in details

    scenario(body)


def test_other_changes_leave_streams_alone(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        sampled = await agent.open(READER, COUNTERS, stream_mode=SAMPLE, sample_interval=S)
        watched = await agent.open(OTHER, stream_mode=ON_CHANGE)
        agent.cli.add("someone", Role.ADMIN, "pw")
        agent.cli.set_password("other", "changed")
        await agent.tick()
        assert (await within(watched.status()))[0] is grpc.StatusCode.UNAUTHENTICATED
        await agent.tick(2)
        await agent.site.advance(1)  # the reader's stream still delivers
        response = await sampled.read()
        assert any(path.startswith(COUNTERS) for path in leaves_of(response))
        assert agent.guard.watching == 1
        sampled.cancel()

    scenario(body)


def test_every_stream_of_the_user_ends_at_the_same_check(
    scenario: Callable[[Body], None],
) -> None:
    async def body(agent: Agent) -> None:
        streams = [await agent.open(READER, stream_mode=ON_CHANGE) for _ in range(3)]
        survivor = await agent.open(OTHER, stream_mode=ON_CHANGE)
        assert agent.guard.watching == 4
        agent.cli.remove("reader")
        await agent.tick()
        codes = await asyncio.gather(*(within(s.status()) for s in streams))
        assert [code for code, _ in codes] == [grpc.StatusCode.UNAUTHENTICATED] * 3
        assert agent.guard.watching == 1
        survivor.cancel()

    scenario(body)


def test_a_damaged_user_database_ends_every_stream(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        streams = [await agent.open(login, stream_mode=ON_CHANGE) for login in (READER, OTHER)]
        agent.users.path.write_text("{ not json")
        await agent.tick()
        for stream in streams:
            code, details = await stream.status()
            assert code is grpc.StatusCode.INTERNAL
            assert "user database is unavailable" in details

    scenario(body)


def test_the_guard_runs_only_while_streams_are_open(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        assert not agent.guard.running
        stream = await agent.open(READER, stream_mode=ON_CHANGE)
        assert agent.guard.running
        stream.cancel()
        for _ in range(200):
            if not agent.guard.running:
                break
            await asyncio.sleep(0.01)
        assert agent.guard.watching == 0 and not agent.guard.running
        again = await agent.open(READER, stream_mode=ON_CHANGE)  # a new task starts
        agent.cli.remove("reader")
        await agent.tick()
        assert (await again.status())[0] is grpc.StatusCode.UNAUTHENTICATED

    scenario(body)


def test_a_stream_opened_with_a_stale_login_is_checked_at_the_next_tick(
    scenario: Callable[[Body], None],
) -> None:
    """The login may come from a view of the file up to recheck_s old; the stream's first
    check looks at the file as it is."""

    async def body(agent: Agent) -> None:
        other_stream = await agent.open(OTHER, stream_mode=ON_CHANGE)
        await agent.tick()  # the guard has seen the current file
        agent.users.authenticate(*READER)  # cached: the next login skips the file
        agent.cli.remove("reader")
        stream = await agent.open(READER, stream_mode=ON_CHANGE)  # within the window
        await agent.tick()
        assert (await stream.status())[0] is grpc.StatusCode.UNAUTHENTICATED
        other_stream.cancel()

    scenario(body)


def test_the_guard_checks_every_half_second(scenario: Callable[[Body], None]) -> None:
    async def body(agent: Agent) -> None:
        survivor = await agent.open(OTHER, stream_mode=ON_CHANGE)
        stream = await agent.open(READER, stream_mode=ON_CHANGE)
        agent.cli.remove("reader")
        await within(agent.timer.advance(0.49))
        assert agent.guard.watching == 2  # not checked yet
        await within(agent.timer.advance(0.01))
        code, _ = await stream.status()
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert agent.guard.watching == 1 and agent.guard.running
        await within(agent.timer.advance(2))  # four more checks: nothing else changed
        assert agent.guard.watching == 1
        survivor.cancel()

    scenario(body)
