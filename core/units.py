"""Sizes as a person reads them, in one unit family everywhere: binary (KiB, MiB, GiB), as the
operating systems' file managers and `free -h` show memory, so a model is "12.8 GiB" in the
window, in the terminal and in every sentence of the core."""

KIB, MIB, GIB = 2**10, 2**20, 2**30


def size_text(n: int | float | None) -> str:
    """"12.8 GiB", "202.2 MiB", "3.0 KiB", "512 bytes"; "unknown" for None."""
    if n is None:
        return "unknown"
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"
