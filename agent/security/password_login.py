"""One password login, throttled the same way for every northbound (gNMI, NETCONF).

The throttle is asked first (a refused attempt costs no password check and raises
LoginThrottledError); a login verified recently is a cache hit; any other check runs
scrypt in a worker thread, off the event loop, and tells the throttle its outcome from
that thread, so the outcome counts even when the caller is cancelled meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Final

from agent.security.credentials import Authenticator
from agent.security.errors import AuthenticationError, AuthFailure, LoginThrottledError
from agent.security.throttle import LoginThrottle
from agent.security.users import User

GUESSES: Final = frozenset({AuthFailure.BAD_PASSWORD, AuthFailure.UNKNOWN_USER})
"""Failures that tried a password, as opposed to requests without one."""
_BUSY_RETRY_S: Final = 0.01  # how often a login looks whether the peer's checks have ended


def cached_login(
    authenticator: Authenticator,
    throttle: LoginThrottle | None,
    host: str,
    name: str,
    password: str,
) -> User | None:
    """The user when this name/password pair was verified recently (counted as a
    success with the throttle); None when only ``password_login`` can tell; raises
    LoginThrottledError when the throttle refuses. Never waits and never runs scrypt:
    callers on the event loop try it first."""
    if throttle is not None:
        refusal = throttle.refusal(host, name)
        if refusal is not None:
            raise LoginThrottledError(refusal.message, refusal.retry_after_s, username=name)
    user = authenticator.cached_user(name, password)
    if user is not None and throttle is not None:
        throttle.succeeded(host, name)
    return user


async def password_login(
    authenticator: Authenticator,
    throttle: LoginThrottle | None,
    host: str,
    name: str,
    password: str,
) -> User:
    """The user ``password`` proves, from a client on ``host`` (its address without the
    port); raises AuthenticationError (LoginThrottledError when throttled)."""
    while True:
        user = cached_login(authenticator, throttle, host, name, password)
        if user is not None:
            return user
        if throttle is None:
            return await asyncio.to_thread(authenticator.authenticate, name, password)
        if throttle.start(host):
            try:
                return await asyncio.to_thread(
                    _verify_counted, authenticator, throttle, host, name, password
                )
            finally:
                # On cancellation the check may still run on: its outcome is still
                # counted, and its answer never reaches the client.
                throttle.finish(host)
        # As many checks in progress as the peer has failures left: wait for one.
        await asyncio.sleep(_BUSY_RETRY_S)


def _verify_counted(
    authenticator: Authenticator, throttle: LoginThrottle, host: str, name: str, password: str
) -> User:
    try:
        user = authenticator.authenticate(name, password)
    except AuthenticationError as exc:
        if exc.reason in GUESSES:
            throttle.failed(host, name)
        raise
    throttle.succeeded(host, name)
    return user
