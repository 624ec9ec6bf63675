"""Errors of the persistence layer; messages name the file and say what is wrong."""

from __future__ import annotations

from pathlib import Path

from agent.datastore.persist_format import CheckpointInfo

CHECKPOINT_DIR = "checkpoints"
JOURNAL_DIR = "journal"


class PersistenceError(Exception):
    """Base of the errors of the persistence layer."""


class CorruptFileError(PersistenceError):
    """A state file that cannot be used: unreadable, truncated, damaged or foreign."""

    def __init__(self, path: Path, problem: str, message: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(message or f"{path}: {problem}")


class CorruptConfigError(CorruptFileError):
    """The current configuration cannot be loaded; the agent must not start on defaults.

    ``restore_from`` is the newest valid checkpoint (None when there is none).
    """

    def __init__(self, path: Path, problem: str, restore_from: CheckpointInfo | None) -> None:
        self.restore_from = restore_from
        if restore_from is not None:
            advice = (
                f"newest valid checkpoint is version {restore_from.version} "
                f"({restore_from.path}); restore it with "
                f"`edge-agent restore-checkpoint {restore_from.version}`"
            )
        else:
            advice = (
                f"no valid checkpoint in {path.parent / CHECKPOINT_DIR}; repair or remove "
                f"{path.name} to start from the default site"
            )
        super().__init__(
            path, problem, f"running configuration {path} is unusable: {problem}; {advice}"
        )


class CorruptJournalError(CorruptFileError):
    """A journal segment that cannot be replayed: damage before its end (never a torn
    tail, which is dropped), a gap in the versions or a record that does not apply.

    ``offset`` is the byte where the bad record starts (None: the file as a whole).
    Nothing is skipped: the agent does not start until the segment is dealt with.
    """

    def __init__(self, path: Path, problem: str, offset: int | None = None) -> None:
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(
            path,
            problem,
            f"journal segment {path} is unusable{where}: {problem}; the commits from there "
            f"on are not loaded and nothing is skipped: restore a checkpoint from "
            f"{path.parent.parent / CHECKPOINT_DIR} with `edge-agent restore-checkpoint "
            f"VERSION` (`edge-agent checkpoints` lists them)",
        )


class CheckpointNotFoundError(PersistenceError, LookupError):
    """No checkpoint file exists for the requested version."""


class StaleVersionError(PersistenceError, ValueError):
    """A save whose version is not above every version already stored."""
