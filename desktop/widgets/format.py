"""Numbers as a person reads them: sizes, speeds, durations."""

from __future__ import annotations

GIB = 1024**3


def size_text(n: int | float | None) -> str:
    if n is None:
        return "unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "working out the time left"
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left"


FIT_BADGES = {
    "gpu": ("Runs on your graphics card", "good"),
    "cpu-slow": ("Runs slowly on the processor", "warn"),
    "does-not-fit": ("Too big for this computer", "bad"),
}
