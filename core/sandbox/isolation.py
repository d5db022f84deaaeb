"""What keeps a Python session off the network on this computer, in words a Hardware page can
show: `Isolation.summary()`, e.g. "Linux user and network namespace (loopback only, down), seccomp
filter (no sockets), Landlock ABI 7 (writes only in the session folder, no TCP)"; and how far it is
kept from the person's files: `Isolation.files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = {  # kind -> how the summary starts
    "namespace": "Linux namespaces",
    "seccomp": "Linux seccomp filter, without a namespace",
    "sandbox-exec": "macOS sandbox profile (untested)",
    "appcontainer": "Windows AppContainer and job object (untested)",
}
LANDLOCK = "Landlock"  # how confine.py's Landlock layer starts


@dataclass(frozen=True)
class Isolation:
    kind: str  # a key of KINDS
    layers: tuple[str, ...]  # what holds, outermost first
    notes: tuple[str, ...] = ()  # what was tried and is missing, and why
    mnt_data: str = "mapped"  # "mounted": a real /mnt/data; "mapped": in Python's file functions
    tested: bool = True  # False for the macOS and Windows paths, which no test here runs

    @classmethod
    def from_report(cls, report: dict[str, Any], kind: str | None = None, layers: tuple[str, ...] = (),
                    tested: bool = True) -> Isolation:
        return cls(kind or report["kind"], (*layers, *report.get("layers", ())), tuple(report.get("notes", ())),
                   report.get("mnt_data", "mapped"), tested)

    @property
    def files(self) -> str:
        """How far the code is kept from the person's files: "kept" (it reads only the system's and
        Python's folders and writes only in its session folder), "read" (it writes only there but
        may read anything) or "open" (a Linux kernel without Landlock: it may read and change them)."""
        if self.kind == "appcontainer":  # it reads only what is granted to application packages
            return "kept"
        if self.kind == "sandbox-exec":  # the profile denies writes, not reads (macos.py)
            return "read"
        return "kept" if any(layer.startswith(LANDLOCK) for layer in self.layers) else "open"

    def summary(self) -> str:
        text = f"{KINDS.get(self.kind, self.kind)}: {', '.join(self.layers)}"
        if self.notes:
            text += f"; {'; '.join(self.notes)}"
        return text
