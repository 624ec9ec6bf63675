"""The exit codes of ``edge-agent serve`` (docs/operations.md#exit-codes).

A supervisor can tell a start that will never work (configuration, state directory)
from one worth retrying (an address that is busy now), e.g. systemd's
``RestartPreventExitStatus=3 4``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Why ``edge-agent serve`` ended."""

    OK = 0
    """Stopped by SIGINT or SIGTERM after a clean shutdown."""
    FAILED = 1
    """Could not start for an unexpected reason (a bug; the log has the details)."""
    USAGE = 2
    """The command line is wrong (unknown flag, missing value)."""
    CONFIG = 3
    """The configuration is unusable: settings file or flag values, the site file, the
    policy file, the saved configuration, the YANG modules."""
    STATE = 4
    """The state directory is unusable: unsafe file modes, a damaged user database, TLS
    files, the configuration journal, the SSH host key, a file that cannot be read or
    written."""
    LISTEN = 5
    """An address cannot be listened on (in use, not local, privileged port): gNMI,
    NETCONF or metrics."""
