"""Progress reports for long model work (download, import, export, verify).

`Progress` is the frozen event a callback receives; `ProgressMeter` turns byte counts into those
events with a smoothed speed and an ETA, and throttles them so a GUI is not flooded (at most one
event per `interval` seconds, plus every phase or file change).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    model_id: str
    # "preparing", "downloading", "retrying", "verifying", "copying", "paused", "done"
    phase: str
    file: str | None  # path inside the model folder, or None between files
    file_done: int
    file_total: int
    done: int  # bytes of the whole job finished, including what an earlier run fetched
    total: int
    bytes_per_second: float  # bytes this run moved per second, smoothed
    eta_seconds: float | None  # None until the speed is known
    message: str = ""  # a sentence for the person: retries, skipped files, etc.

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Accumulates bytes for one job and emits `Progress` events to a callback."""

    def __init__(
        self,
        model_id: str,
        total: int,
        callback: ProgressCallback | None,
        *,
        done: int = 0,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.model_id = model_id
        self.total = total
        self.done = done
        self._callback = callback
        self._interval = interval
        self._clock = clock
        self._last_emit = -1e9
        self._speed = 0.0
        self._sample_time = clock()
        self._sample_bytes = 0
        self.phase = "preparing"
        self.file: str | None = None
        self.file_done = 0
        self.file_total = 0

    def start_file(self, file: str, file_total: int, file_done: int = 0, phase: str = "downloading") -> None:
        self.file, self.file_total, self.file_done, self.phase = file, file_total, file_done, phase
        self.emit(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self.file_done += n
        self._sample_bytes += n
        self.emit()

    def rewind_file(self) -> None:
        """The current file starts again from byte 0 (its partial data was unusable)."""
        self.done -= self.file_done
        self.file_done = 0
        self.emit(force=True)

    def emit(self, *, force: bool = False, phase: str | None = None, message: str = "") -> None:
        if phase is not None:
            self.phase = phase
        now = self._clock()
        window = now - self._sample_time
        if window >= 1.0:
            # Exponential smoothing keeps the ETA from jumping with every burst of the network.
            rate = self._sample_bytes / window
            self._speed = rate if self._speed == 0 else 0.7 * self._speed + 0.3 * rate
            self._sample_time, self._sample_bytes = now, 0
        if self._callback is None or not (force or message or now - self._last_emit >= self._interval):
            return
        self._last_emit = now
        remaining = max(self.total - self.done, 0)
        eta = remaining / self._speed if self._speed > 0 else (0.0 if remaining == 0 else None)
        self._callback(
            Progress(
                model_id=self.model_id,
                phase=self.phase,
                file=self.file,
                file_done=self.file_done,
                file_total=self.file_total,
                done=self.done,
                total=self.total,
                bytes_per_second=self._speed,
                eta_seconds=eta,
                message=message,
            )
        )
