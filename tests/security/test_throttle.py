"""The login throttle on a fake clock: lock-outs, the per-name rule, memory bounds."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from agent.clock import FakeClock
from agent.security.throttle import (
    LoginRefusal,
    LoginThrottle,
    ThrottlePolicy,
    ThrottleScope,
    peer_key,
)

ATTACKER = "192.0.2.66"
HOME = "198.51.100.7"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def throttle_with(clock: FakeClock, **policy: Any) -> LoginThrottle:
    return LoginThrottle(ThrottlePolicy(**policy), clock=clock)


def fail(throttle: LoginThrottle, peer: str, name: str, times: int = 1) -> None:
    for _ in range(times):
        throttle.failed(peer, name)


def test_defaults_are_documented_values() -> None:
    policy = ThrottlePolicy()
    assert (policy.peer_failures, policy.user_failures, policy.window_s) == (5, 10, 60.0)
    assert (policy.lockout_s, policy.max_lockout_s, policy.reset_s) == (2.0, 300.0, 900.0)
    assert (policy.max_tracked, policy.ipv6_prefix) == (10_000, 64)


def test_peer_is_locked_out_after_peer_failures(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, ATTACKER, "alice", 4)
    assert throttle.check(ATTACKER, "alice") is None
    throttle.failed(ATTACKER, "root")
    assert throttle.check(ATTACKER, "alice") == 2.0
    # Every name from that peer, the right password or not: the check comes first.
    assert throttle.refusal(ATTACKER, "noc") == LoginRefusal(ThrottleScope.PEER, 2.0)
    assert throttle.check(HOME, "alice") is None
    clock.advance(1.5)
    assert throttle.check(ATTACKER, "alice") == 0.5
    clock.advance(0.5)
    assert throttle.check(ATTACKER, "alice") is None


def test_refusal_message_rounds_up_to_whole_seconds() -> None:
    assert LoginRefusal(ThrottleScope.PEER, 0.2).message == (
        "too many failed logins for this peer; retry in 1 s"
    )
    assert LoginRefusal(ThrottleScope.NAME, 2.5).message == (
        "too many failed logins for this name; retry in 3 s"
    )


def test_failures_older_than_the_window_do_not_count(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, ATTACKER, "alice", 4)
    clock.advance(60)
    fail(throttle, ATTACKER, "alice", 4)
    assert throttle.check(ATTACKER, "alice") is None
    throttle.failed(ATTACKER, "alice")
    assert throttle.check(ATTACKER, "alice") == 2.0


def test_each_further_lockout_doubles_up_to_the_cap(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, ATTACKER, "alice", 5)
    lockouts = []
    for _ in range(10):
        wait = throttle.check(ATTACKER, "alice")
        assert wait is not None
        lockouts.append(wait)
        clock.advance(wait)
        assert throttle.check(ATTACKER, "alice") is None
        throttle.failed(ATTACKER, "alice")  # one failure after a lock-out is enough
    assert lockouts == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]


def test_lockout_history_is_forgotten_after_a_quiet_reset(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, ATTACKER, "alice", 5)
    clock.advance(2 + 899)  # lock-out over, one second short of the quiet reset
    throttle.failed(ATTACKER, "alice")
    assert throttle.check(ATTACKER, "alice") == 4.0

    clock.advance(4 + 900)
    fail(throttle, ATTACKER, "alice", 4)
    assert throttle.check(ATTACKER, "alice") is None
    throttle.failed(ATTACKER, "alice")
    assert throttle.check(ATTACKER, "alice") == 2.0  # the first lock-out again


def test_refused_attempts_do_not_extend_a_lockout(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, ATTACKER, "alice", 5)
    for _ in range(100):
        assert throttle.check(ATTACKER, "alice") == 2.0


def test_name_rule_refuses_only_peers_that_failed_for_the_name(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    bots = [f"203.0.113.{index}" for index in range(10)]
    for bot in bots[:9]:
        throttle.failed(bot, "alice")
    assert throttle.check(bots[0], "alice") is None
    clock.advance(10)
    throttle.failed(bots[9], "alice")  # the tenth failure for alice within the window
    for bot in bots:
        refusal = throttle.refusal(bot, "alice")
        assert refusal is not None and refusal.scope is ThrottleScope.NAME
        assert throttle.check(bot, "bob") is None  # the peers themselves are not locked
    assert throttle.check(bots[0], "alice") == 50.0  # until the oldest failure ages out
    # The real user, at a peer that has not failed for alice, gets through.
    assert throttle.check(HOME, "alice") is None
    throttle.succeeded(HOME, "alice")
    clock.advance(50)
    assert throttle.check(bots[0], "alice") is None


def test_spread_attacker_gets_one_guess_per_peer_once_the_name_is_attacked(
    clock: FakeClock,
) -> None:
    throttle = LoginThrottle(clock=clock)
    for index in range(10):
        throttle.failed(f"203.0.113.{index}", "alice")
    guesses = 0
    for index in range(10, 60):
        bot = f"203.0.113.{index}"
        for _ in range(5):
            if throttle.check(bot, "alice") is None:
                guesses += 1
                throttle.failed(bot, "alice")
    assert guesses == 50
    assert throttle.check(HOME, "alice") is None


def test_real_user_at_the_attacked_peer_and_name_waits_for_the_window(
    clock: FakeClock,
) -> None:
    throttle = throttle_with(clock, peer_failures=100)
    fail(throttle, ATTACKER, "alice", 10)
    assert throttle.check(ATTACKER, "alice") == 60.0
    clock.advance(30)
    fail(throttle, HOME, "alice")  # the real user mistypes during the attack
    assert throttle.check(HOME, "alice") == 30.0  # until the attacker's failures age out


def test_success_clears_that_peers_failures_for_that_name(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, HOME, "bob", 3)
    throttle.failed(HOME, "alice")
    throttle.succeeded(HOME, "alice")
    throttle.failed(HOME, "alice")
    assert throttle.check(HOME, "alice") is None  # three for bob, one for alice
    throttle.failed(HOME, "bob")
    assert throttle.check(HOME, "alice") == 2.0


def test_success_clears_only_that_peer_under_the_name_rule(clock: FakeClock) -> None:
    throttle = throttle_with(clock, peer_failures=100)
    fail(throttle, HOME, "alice", 2)
    fail(throttle, ATTACKER, "alice", 8)
    assert throttle.check(HOME, "alice") is not None
    throttle.succeeded(HOME, "alice")
    assert throttle.check(HOME, "alice") is None
    assert throttle.check(ATTACKER, "alice") == 60.0  # the name's count is unchanged


def test_success_keeps_the_lockout_history(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    fail(throttle, HOME, "alice", 5)
    clock.advance(2)
    throttle.succeeded(HOME, "alice")
    throttle.failed(HOME, "alice")
    assert throttle.check(HOME, "alice") == 4.0


def test_checks_in_progress_are_limited_to_the_failures_left(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    assert [throttle.start(ATTACKER) for _ in range(6)] == [True] * 5 + [False]
    assert throttle.start(HOME)
    throttle.finish(ATTACKER)
    throttle.failed(ATTACKER, "alice")
    assert not throttle.start(ATTACKER)  # four in progress, four failures left
    for _ in range(4):
        throttle.failed(ATTACKER, "alice")
        throttle.finish(ATTACKER)
    assert not throttle.start(ATTACKER)  # locked out
    clock.advance(2)
    assert throttle.start(ATTACKER)  # one at a time after a lock-out
    assert not throttle.start(ATTACKER)
    throttle.finish(ATTACKER)
    assert throttle.start(ATTACKER)


def test_finish_never_goes_negative(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    throttle.finish(ATTACKER)
    assert throttle.start(ATTACKER)
    throttle.finish(ATTACKER)
    throttle.finish(ATTACKER)
    assert [throttle.start(ATTACKER) for _ in range(6)] == [True] * 5 + [False]


def test_memory_is_bounded_by_max_tracked(clock: FakeClock) -> None:
    throttle = throttle_with(clock, max_tracked=100)
    for index in range(5_000):
        throttle.failed(f"10.{index // 65536}.{index // 256 % 256}.{index % 256}", f"u{index}")
        throttle.start(f"172.16.{index // 256 % 256}.{index % 256}")
    assert throttle.tracked <= 300
    for index in range(5_000):
        throttle.failed(ATTACKER, f"random-{index}")
    assert throttle.tracked <= 300


def test_the_oldest_entry_is_dropped_when_a_table_is_full(clock: FakeClock) -> None:
    throttle = throttle_with(clock, max_tracked=2, peer_failures=1)
    throttle.failed("10.0.0.1", "a")
    throttle.failed("10.0.0.2", "b")
    assert throttle.check("10.0.0.1", "a") is not None
    throttle.failed("10.0.0.3", "c")
    assert throttle.check("10.0.0.1", "a") is None
    assert throttle.check("10.0.0.2", "b") is not None


def test_stale_entries_are_dropped(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock=clock)
    for index in range(3):
        throttle.failed(f"10.0.0.{index}", f"user{index}")
    assert throttle.tracked == 9
    clock.advance(61)
    throttle.failed(HOME, "alice")
    assert throttle.tracked == 3
    throttle.succeeded(HOME, "alice")
    assert throttle.tracked == 1  # only alice's count across peers stays


def test_peers_are_keyed_by_host_and_ipv6_network(clock: FakeClock) -> None:
    assert peer_key("10.0.0.1") == "10.0.0.1"
    assert peer_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert peer_key("2001:db8::1") == "2001:db8::/64"
    assert peer_key("2001:db8::1", 128) == "2001:db8::1/128"
    assert peer_key("unix:") == "unix:"
    throttle = throttle_with(clock, peer_failures=2)
    throttle.failed("2001:db8::1", "alice")
    throttle.failed("2001:db8::ffff:2", "alice")
    assert throttle.check("2001:db8::3", "noc") == 2.0
    assert throttle.check("2001:db8:0:1::1", "noc") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"peer_failures": 0},
        {"user_failures": 0},
        {"max_tracked": 0},
        {"window_s": 0},
        {"lockout_s": -1},
        {"reset_s": 0},
        {"lockout_s": 10, "max_lockout_s": 5},
        {"ipv6_prefix": 129},
    ],
)
def test_policy_is_validated(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(**changes)


def test_concurrent_use_from_threads_is_consistent(clock: FakeClock) -> None:
    throttle = throttle_with(clock, peer_failures=1_000_000, user_failures=1_000_000)
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        barrier.wait()
        for attempt in range(500):
            peer = f"10.0.{index}.{attempt % 50}"
            if throttle.start(peer):
                throttle.failed(peer, "alice")
                throttle.finish(peer)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert throttle.tracked == 8 * 50 * 2 + 1  # peers, pairs and the one name
