"""The Python sandbox's typed errors; each `str(error)` is a sentence for a person."""

from __future__ import annotations

from core.errors import HearthError


class SandboxUnavailable(HearthError):
    """This computer cannot run the model's Python isolated from the network, so it is not run."""


class WorkerLost(Exception):
    """The worker process ended or broke the protocol (internal: the tool restarts it)."""

    def __init__(self, message: str, exit_code: int | None):
        super().__init__(message)
        self.exit_code = exit_code
