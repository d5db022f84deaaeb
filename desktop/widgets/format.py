"""Numbers as a person reads them: sizes, speeds, durations."""

from __future__ import annotations

GIB = 1024**3


def size_text(n: int | float | None) -> str:
    """Binary units, as the core's own sentences use (“needs 15.0 GiB”), so the numbers on a
    page agree with the sentence beside them."""
    if n is None:
        return "unknown"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
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
