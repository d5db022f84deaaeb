"""One self-redrawing progress line on stderr, for every command that shows progress: on a
terminal the line is redrawn in place; otherwise (a log, a pipe) a line is printed per tenth."""

from __future__ import annotations

import shutil
import sys


class ProgressLine:
    WIDTH = 28  # characters of the bar itself

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_tenth = -1
        self._drawn = False

    def bar(self, fraction: float) -> str:
        filled = int(fraction * self.WIDTH)
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}]"

    def draw(self, text: str, fraction: float, always: bool = False) -> None:
        """Shows `text`; off a terminal only when its tenth changed or `always`."""
        if self.tty:
            # One character short of the width: a full line would wrap and scroll on each redraw.
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r" + text[:width].ljust(width))
            self.stream.flush()
            self._drawn = True
        elif int(fraction * 10) != self._last_tenth or always:
            self._last_tenth = int(fraction * 10)
            print(text, file=self.stream, flush=True)

    def line(self, text: str) -> None:
        """A message of its own, below the bar."""
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
