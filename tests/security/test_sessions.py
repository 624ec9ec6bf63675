"""SessionGuard: one watcher ends the streams of users who are no longer current."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.clock import FakeClock
from agent.security.errors import UserDatabaseError
from agent.security.sessions import DATABASE_UNAVAILABLE, Ending, SessionGuard, ending_for
from agent.security.users import Revocation, Role, User, UserStore
from agent.telemetry.timer import ManualTimer

ANN = User("ann", Role.READ_ONLY)


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 20))


class Directory:
    """A user database whose answers the test sets; counts what the guard asks."""

    def __init__(self) -> None:
        self.generation = 0
        self.revocations: dict[str, Revocation] = {}
        self.asked: list[str] = []
        self.broken = False

    def refresh(self) -> int:
        if self.broken:
            raise UserDatabaseError("users.json: not valid JSON")
        return self.generation

    def revoked(self, user: User) -> Revocation | None:
        self.asked.append(user.name)
        return self.revocations.get(user.name)

    def change(self, name: str, revocation: Revocation) -> None:
        self.revocations[name] = revocation
        self.generation += 1


class Ended(list[Ending]):
    def __call__(self, ending: Ending) -> None:
        self.append(ending)


def test_endings_say_why_with_the_right_code() -> None:
    removed = ending_for(ANN, Revocation.REMOVED)
    assert (
        removed.code is grpc.StatusCode.UNAUTHENTICATED and "'ann' was removed" in removed.message
    )
    password = ending_for(ANN, Revocation.PASSWORD_CHANGED)
    assert password.code is grpc.StatusCode.UNAUTHENTICATED and "password" in password.message
    role = ending_for(ANN, Revocation.ROLE_CHANGED)
    assert role.code is grpc.StatusCode.PERMISSION_DENIED and "role" in role.message
    assert DATABASE_UNAVAILABLE.code is grpc.StatusCode.INTERNAL


def test_users_are_asked_about_only_when_the_database_changed() -> None:
    async def main() -> None:
        directory = Directory()
        guard = SessionGuard(directory, FakeClock())
        ended = [Ended() for _ in range(4)]
        users = [ANN, ANN, User("bob", Role.ADMIN), User("cy", Role.READ_ONLY)]
        for user, end in zip(users, ended, strict=True):
            guard.watch(user, end)
        assert guard.check() == 0
        assert sorted(directory.asked) == ["ann", "bob", "cy"]  # once per user, new streams
        directory.asked.clear()
        for _ in range(3):
            assert guard.check() == 0
        assert directory.asked == []  # nothing changed: one refresh per check, no more
        guard.watch(User("dee", Role.ADMIN), Ended())
        guard.check()
        assert directory.asked == ["dee"]  # a new stream is checked once
        directory.asked.clear()
        directory.change("ann", Revocation.REMOVED)
        assert guard.check() == 2
        assert sorted(directory.asked) == ["ann", "bob", "cy", "dee"]
        assert [len(e) for e in ended] == [1, 1, 0, 0]
        assert ended[0][0] == ending_for(ANN, Revocation.REMOVED)
        assert guard.watching == 3
        guard.check()
        assert [len(e) for e in ended] == [1, 1, 0, 0]  # ended once

    run(main())


def test_a_closed_stream_is_forgotten() -> None:
    async def main() -> None:
        directory = Directory()
        guard = SessionGuard(directory, FakeClock())
        ended = Ended()
        forget = guard.watch(ANN, ended)
        forget()
        forget()  # idempotent
        directory.change("ann", Revocation.REMOVED)
        assert guard.check() == 0 and ended == [] and guard.watching == 0

    run(main())


def test_a_broken_database_ends_every_stream() -> None:
    async def main() -> None:
        directory = Directory()
        guard = SessionGuard(directory, FakeClock())
        ended = [Ended(), Ended()]
        guard.watch(ANN, ended[0])
        guard.watch(User("bob", Role.ADMIN), ended[1])
        directory.broken = True
        assert guard.check() == 2
        assert ended == [[DATABASE_UNAVAILABLE], [DATABASE_UNAVAILABLE]]

    run(main())


def test_a_failing_end_callback_does_not_spare_the_others() -> None:
    async def main() -> None:
        directory = Directory()
        guard = SessionGuard(directory, FakeClock())

        def broken(_ending: Ending) -> None:
            raise RuntimeError("boom")

        ended = Ended()
        guard.watch(ANN, broken)
        guard.watch(ANN, ended)
        directory.change("ann", Revocation.PASSWORD_CHANGED)
        assert guard.check() == 2 and len(ended) == 1

    run(main())


def test_with_the_real_store(tmp_path: Path, fast_scrypt: Any) -> None:
    async def main() -> None:
        path = tmp_path / "users.json"
        server = UserStore(path, scrypt=fast_scrypt, recheck_s=0.5)
        cli = UserStore(path, scrypt=fast_scrypt)
        server.add("ann", Role.READ_ONLY, "pw")
        server.add("bob", Role.READ_ONLY, "pw")
        guard = SessionGuard(server, FakeClock())
        by_password, by_certificate, bob = Ended(), Ended(), Ended()
        guard.watch(server.authenticate("ann", "pw"), by_password)
        certificate_user = server.get("ann")
        assert certificate_user is not None
        guard.watch(certificate_user, by_certificate)
        guard.watch(server.authenticate("bob", "pw"), bob)
        assert guard.check() == 0
        cli.set_password("ann", "new")  # another process; seen despite recheck_s
        assert guard.check() == 1
        assert [e.code for e in by_password] == [grpc.StatusCode.UNAUTHENTICATED]
        assert by_certificate == [] and bob == []
        cli.set_role("bob", Role.ADMIN)
        cli.remove("ann")
        assert guard.check() == 2
        assert [e.code for e in by_certificate] == [grpc.StatusCode.UNAUTHENTICATED]
        assert [e.code for e in bob] == [grpc.StatusCode.PERMISSION_DENIED]

    run(main())


def test_the_task_checks_every_interval_and_ends_with_the_last_stream() -> None:
    async def main() -> None:
        directory = Directory()
        clock = FakeClock()
        timer = ManualTimer(clock)
        guard = SessionGuard(directory, clock, timer=timer, interval_s=0.5)
        assert not guard.running
        survivor, ended = Ended(), Ended()
        guard.watch(User("bob", Role.ADMIN), survivor)
        guard.watch(ANN, ended)
        assert guard.running
        directory.change("ann", Revocation.REMOVED)
        await timer.advance(0.4)
        assert ended == []
        await timer.advance(0.1)
        assert len(ended) == 1
        directory.asked.clear()
        await timer.advance(5)  # ten checks, nothing changed
        assert directory.asked == [] and survivor == []
        forget = guard.watch(User("cy", Role.ADMIN), Ended())
        await timer.advance(0.5)
        assert directory.asked == ["cy"]
        forget()
        assert guard.running  # bob is still watched
        directory.change("bob", Revocation.ROLE_CHANGED)
        # By hand: the task ends with the last stream, and a ManualTimer cannot advance
        # past the end of the task that waits on it.
        guard.check()
        assert [e.code for e in survivor] == [grpc.StatusCode.PERMISSION_DENIED]
        for _ in range(10):
            await asyncio.sleep(0)
        assert not guard.running

    run(main())


def test_the_task_restarts_for_a_new_stream() -> None:
    async def main() -> None:
        directory = Directory()
        guard = SessionGuard(directory, FakeClock(), interval_s=0.01)
        forget = guard.watch(ANN, Ended())
        forget()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not guard.running
        ended = Ended()
        guard.watch(ANN, ended)
        assert guard.running
        directory.change("ann", Revocation.REMOVED)
        for _ in range(200):  # FakeClock stands still: each wait is one real interval
            if ended:
                break
            await asyncio.sleep(0.01)
        assert len(ended) == 1

    run(main())


@pytest.mark.parametrize("interval", [0, -1])
def test_the_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        SessionGuard(Directory(), FakeClock(), interval_s=interval)


def test_ended_streams_are_audited(tmp_path: Path) -> None:
    from agent.security.audit import AuditLog, Outcome, read_audit_log

    async def main() -> None:
        directory = Directory()
        with AuditLog(tmp_path) as audit:
            guard = SessionGuard(directory, FakeClock(), audit=audit)
            guard.watch(ANN, Ended(), peer="ipv4:127.0.0.1:5000")
            directory.change("ann", Revocation.REMOVED)
            guard.check()
        (record,) = read_audit_log(tmp_path)
        assert (record.rpc, record.user, record.role) == (
            "/gnmi.gNMI/Subscribe",
            "ann",
            "read-only",
        )
        assert (record.outcome, record.code) == (Outcome.DENIED, "UNAUTHENTICATED")
        assert record.peer == "ipv4:127.0.0.1:5000" and "removed" in record.message

    run(main())
