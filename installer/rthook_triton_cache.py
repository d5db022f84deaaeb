"""PyInstaller runtime hook: runs in the frozen program before Hearth's code, and points
Triton at the cache the build filled (the CUDA launcher and the kernels' cubins), so a
user's machine needs no C compiler and the first answer waits for no compilation.

Triton also writes to its cache (a shape not pre-compiled is compiled there), and a
system-wide install is read-only, so the user's cache folder is seeded with a copy of the
bundled one, once per build. Must not import triton or torch: it runs before everything.
"""

import os
import shutil
import sys
from pathlib import Path


def _seed_triton_cache() -> None:
    bundled = Path(sys._MEIPASS) / "triton-cache"
    if not (bundled / "BUILD").is_file() or os.environ.get("TRITON_CACHE_DIR"):
        return  # no pre-built cache in this build, or the user chose a cache themselves
    if not sys.platform.startswith("linux"):
        os.environ["TRITON_CACHE_DIR"] = str(bundled)
        return
    build = (bundled / "BUILD").read_text().split()[0]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hearth" / "triton"
    target = base / build
    try:
        if not (target / "BUILD").is_file():
            partial = base / f".{build}.{os.getpid()}"
            shutil.copytree(bundled, partial)
            try:
                os.replace(partial, target)  # atomic: two programs starting at once both end well
            except OSError:
                shutil.rmtree(partial, ignore_errors=True)
        os.environ["TRITON_CACHE_DIR"] = str(target)
    except OSError:
        # No writable home (a locked-down account): cache hits still work from the bundle itself.
        os.environ["TRITON_CACHE_DIR"] = str(bundled)


_seed_triton_cache()
