"""Numbers as a person reads them: sizes, speeds, durations."""

from __future__ import annotations

from core.units import GIB, size_text  # noqa: F401  (the widgets' one size format is the core's)


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
