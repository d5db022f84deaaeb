"""How far the model has read a long message, and how long the rest will take: the figures
behind "Reading your message: 42%, about 1 min left". Measured from the core's `PromptProgress`
events, never guessed from the text's length."""

from __future__ import annotations

from dataclasses import dataclass

from core.chat.events import PromptProgress


@dataclass(frozen=True)
class Reading:
    done: int  # prompt tokens read so far
    total: int  # of this many new prompt tokens (the part already in the cache is not read again)
    seconds_left: float | None  # None until a rate can be measured

    @classmethod
    def measure(cls, progress: PromptProgress, started: float, now: float) -> Reading:
        """The reading `progress` reports, `now - started` seconds after the answer was asked for.
        The rate is the average since then, which includes the few milliseconds spent rendering
        the prompt: over a read that takes minutes, a steadier figure than the last step's."""
        elapsed = now - started
        rate = progress.done / elapsed if progress.done > 0 and elapsed > 0 else None
        left = (progress.total - progress.done) / rate if rate else None
        return cls(progress.done, progress.total, left)

    @property
    def percent(self) -> int:
        """Whole percent read, rounded down: 100 only once every token is read."""
        return 100 * self.done // self.total if self.total > 0 else 0

    @property
    def finished(self) -> bool:
        return self.done >= self.total
