"""Login throttling against password guessing, for every transport that checks passwords.

Policy (the figures are the :class:`ThrottlePolicy` defaults):

- Peers. A peer is the client's address without the port. IPv6 addresses count per /64
  network (one host usually holds a whole /64); IPv4-mapped IPv6 addresses count as
  IPv4; anything else (a Unix socket, ...) counts by its name. After 5 failed logins
  from one peer within 60 s the peer is locked out for 2 s: every attempt from it, for
  any user name, is refused without the password being checked. Each further failure
  from a peer that has been locked out locks it out again, twice as long as the time
  before, up to 300 s. A peer is forgotten, lock-out history included, 15 minutes after
  its last lock-out ended if it has not failed since (60 s after its last failure if
  it was never locked out).
- User names. After 10 failed logins for one user name within 60 s, from any peers,
  attempts for that name are refused from every peer that has itself failed for it
  within the last 60 s, until either condition ends. A peer with no such failure, such
  as the real user at another site, still logs in with the right password: an attacker
  cannot lock the real user out, and an attacker spread over many peers gets one guess
  per name per peer per 60 s once the name has drawn 10 failures.
- Failures are wrong passwords and unknown user names. Refused attempts are not checked
  and do not count as failures. Client-certificate logins are not throttled.
- A successful login clears that peer's failures for that user name: they no longer
  count towards the peer's limit and the name rule no longer refuses the peer. Other
  peers' failures, the name's count and the peer's lock-out history stay.
- Concurrency. A peer may have only as many password checks in progress as it has
  failures left before a lock-out (one after a lock-out); further attempts wait for one
  of them to end, so parallel guesses cannot overrun the limit.
- Memory. Each table (peers, user names, peer and name pairs) holds at most 10,000
  entries; when one is full, the entry that failed longest ago is dropped, so a flood of
  random names or addresses cannot grow memory without bound.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TypeVar

from agent.clock import Clock, SystemClock

_NS_PER_S = 1_000_000_000
_MAX_DOUBLINGS = 64  # 2**64 times any lock-out is far beyond any sensible cap
_EXPIRE_PER_CALL = 4  # stale entries dropped from the front of each table per failure

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


@dataclass(frozen=True)
class ThrottlePolicy:
    """The limits of a :class:`LoginThrottle`; the module docstring says how they combine."""

    peer_failures: int = 5
    """Failed logins from one peer within ``window_s`` that lock the peer out."""
    user_failures: int = 10
    """Failed logins for one user name within ``window_s`` that start the name rule."""
    window_s: float = 60.0
    """How long a failure counts."""
    lockout_s: float = 2.0
    """The first lock-out of a peer; each further one lasts twice as long as the previous."""
    max_lockout_s: float = 300.0
    """The longest lock-out."""
    reset_s: float = 900.0
    """Quiet time after a peer's last lock-out after which its history is forgotten."""
    max_tracked: int = 10_000
    """Entries per table (peers, user names, peer and name pairs)."""
    ipv6_prefix: int = 64
    """IPv6 peers within one network of this prefix length count as one peer."""

    def __post_init__(self) -> None:
        if min(self.peer_failures, self.user_failures, self.max_tracked) < 1:
            raise ValueError("peer_failures, user_failures and max_tracked must be positive")
        if min(self.window_s, self.lockout_s, self.reset_s) <= 0:
            raise ValueError("window_s, lockout_s and reset_s must be positive")
        if self.max_lockout_s < self.lockout_s:
            raise ValueError("max_lockout_s must be at least lockout_s")
        if not 0 <= self.ipv6_prefix <= 128:
            raise ValueError("ipv6_prefix must be between 0 and 128")


class ThrottleScope(enum.Enum):
    """Which rule refused an attempt."""

    PEER = "peer"
    NAME = "name"


@dataclass(frozen=True)
class LoginRefusal:
    """An attempt the throttle refuses, and for how long."""

    scope: ThrottleScope
    retry_after_s: float

    @property
    def message(self) -> str:
        """Text for the client and the audit log."""
        seconds = max(1, math.ceil(self.retry_after_s))
        return f"too many failed logins for this {self.scope.value}; retry in {seconds} s"


def peer_key(host: str, ipv6_prefix: int = 64) -> str:
    """The name a peer is counted under: canonical IPv4, an IPv6 network, or ``host``."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address), ipv6_prefix), strict=False))


class _PeerRecord:
    """What the throttle remembers about one peer; guarded by the throttle's lock."""

    __slots__ = ("failures", "in_flight", "locked_until", "strikes")

    def __init__(self, capacity: int) -> None:
        self.failures: deque[tuple[float, str]] = deque(maxlen=capacity)  # (time, name)
        self.strikes = 0  # lock-outs since the peer was last forgotten
        self.locked_until = 0.0
        self.in_flight = 0  # password checks in progress


class LoginThrottle:
    """Decides whether a password login may be checked; safe to share between threads.

    For each password login: :meth:`refusal` (or :meth:`check`) first; if allowed,
    :meth:`start` before checking the password (waiting and asking again while it
    returns False), then :meth:`failed` or :meth:`succeeded`, and :meth:`finish`.
    ``peer`` is the client's host (the address without the port).
    """

    def __init__(self, policy: ThrottlePolicy | None = None, *, clock: Clock | None = None) -> None:
        self._policy = policy if policy is not None else ThrottlePolicy()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._peers: OrderedDict[str, _PeerRecord] = OrderedDict()
        self._names: OrderedDict[str, deque[float]] = OrderedDict()
        self._pairs: OrderedDict[tuple[str, str], float] = OrderedDict()  # -> last failure

    @property
    def policy(self) -> ThrottlePolicy:
        return self._policy

    @property
    def tracked(self) -> int:
        """Entries held over all tables (for monitoring and tests)."""
        with self._lock:
            return len(self._peers) + len(self._names) + len(self._pairs)

    def check(self, peer: str, username: str) -> float | None:
        """Seconds until an attempt from ``peer`` for ``username`` may be checked; None
        if it may be checked now."""
        refusal = self.refusal(peer, username)
        return None if refusal is None else refusal.retry_after_s

    def refusal(self, peer: str, username: str) -> LoginRefusal | None:
        """Like :meth:`check`, naming the rule that refuses."""
        if not (self._peers or self._names or self._pairs):
            return None  # nothing failed lately: as if asked just before a concurrent failure
        now = self._now()
        key = self._key(peer)
        window = self._policy.window_s
        with self._lock:
            record = self._peers.get(key)
            if record is not None and record.locked_until > now:
                return LoginRefusal(ThrottleScope.PEER, record.locked_until - now)
            own_failure = self._pairs.get((key, username))
            if own_failure is None or own_failure + window <= now:
                return None
            failures = self._names.get(username)
            if failures is None or len(failures) < self._policy.user_failures:
                return None
            # The deque holds the last user_failures failures: the count stays at the
            # limit until the oldest of them leaves the window.
            until = min(failures[0], own_failure) + window
            return LoginRefusal(ThrottleScope.NAME, until - now) if until > now else None

    def start(self, peer: str) -> bool:
        """Reserves one of ``peer``'s password checks in progress; False when it has as
        many in progress as failures left before a lock-out (or is locked out). Every
        True must be matched by one :meth:`finish`."""
        now = self._now()
        key = self._key(peer)
        with self._lock:
            record = self._live_peer(key, now)
            if record is None:
                record = _PeerRecord(self._policy.peer_failures)
                self._remember(self._peers, key, record)
            if record.locked_until > now:
                return False
            left = 1 if record.strikes else self._policy.peer_failures - len(record.failures)
            if record.in_flight >= left:
                return False
            record.in_flight += 1
            return True

    def finish(self, peer: str) -> None:
        """Releases a check reserved with :meth:`start`."""
        now = self._now()
        key = self._key(peer)
        with self._lock:
            record = self._peers.get(key)
            if record is None:
                return  # dropped from a full table meanwhile
            record.in_flight = max(0, record.in_flight - 1)
            if self._forgettable(record, now):
                del self._peers[key]

    def failed(self, peer: str, username: str) -> None:
        """Records a wrong password or unknown user name."""
        now = self._now()
        key = self._key(peer)
        policy = self._policy
        with self._lock:
            self._expire(now)
            record = self._live_peer(key, now)
            if record is None:
                record = _PeerRecord(policy.peer_failures)
            self._remember(self._peers, key, record)
            record.failures.append((now, username))
            if record.strikes or len(record.failures) >= policy.peer_failures:
                doubled = policy.lockout_s * 2.0 ** min(record.strikes, _MAX_DOUBLINGS)
                lockout = min(doubled, policy.max_lockout_s)
                record.locked_until = max(record.locked_until, now + lockout)
                record.strikes += 1
            failures = self._names.pop(username, None)
            if failures is None:
                failures = deque(maxlen=policy.user_failures)
            failures.append(now)
            self._remember(self._names, username, failures)
            self._remember(self._pairs, (key, username), now)

    def succeeded(self, peer: str, username: str) -> None:
        """Records a successful login: clears ``peer``'s failures for ``username``."""
        if not (self._peers or self._pairs):
            return  # nothing recorded to clear
        now = self._now()
        key = self._key(peer)
        with self._lock:
            self._pairs.pop((key, username), None)
            record = self._peers.get(key)
            if record is None:
                return
            if any(name == username for _, name in record.failures):
                kept = [failure for failure in record.failures if failure[1] != username]
                record.failures = deque(kept, maxlen=record.failures.maxlen)
            if self._forgettable(record, now):
                del self._peers[key]

    def _now(self) -> float:
        return self._clock.monotonic_ns() / _NS_PER_S

    def _key(self, peer: str) -> str:
        return peer_key(peer, self._policy.ipv6_prefix)

    def _live_peer(self, key: str, now: float) -> _PeerRecord | None:
        """The peer's record with expired failures dropped; None if there is nothing
        left to remember."""
        record = self._peers.get(key)
        if record is None:
            return None
        window = self._policy.window_s
        while record.failures and record.failures[0][0] + window <= now:
            record.failures.popleft()
        if self._forgettable(record, now):
            del self._peers[key]
            return None
        return record

    def _forgettable(self, record: _PeerRecord, now: float) -> bool:
        if record.in_flight:
            return False
        if record.strikes:
            return record.locked_until + self._policy.reset_s <= now
        return not record.failures or record.failures[-1][0] + self._policy.window_s <= now

    def _expire(self, now: float) -> None:
        """Drops a few stale entries from the front (the oldest end) of each table."""
        window = self._policy.window_s
        for _ in range(_EXPIRE_PER_CALL):
            peer = next(iter(self._peers.items()), None)
            if peer is None or self._live_peer(peer[0], now) is not None:
                break
        for _ in range(_EXPIRE_PER_CALL):
            name = next(iter(self._names.items()), None)
            if name is None or name[1][-1] + window > now:
                break
            del self._names[name[0]]
        for _ in range(_EXPIRE_PER_CALL):
            pair = next(iter(self._pairs.items()), None)
            if pair is None or pair[1] + window > now:
                break
            del self._pairs[pair[0]]

    def _remember(self, table: OrderedDict[_Key, _Value], key: _Key, value: _Value) -> None:
        """Stores ``value`` as the newest entry, dropping the oldest if the table is full."""
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._policy.max_tracked:
            table.popitem(last=False)
