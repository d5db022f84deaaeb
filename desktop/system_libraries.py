"""The system libraries Qt's window needs on Linux, and which Debian / Ubuntu packages provide
the missing ones: what `scripts/start` installs before the first start.

Found with `ldd` on PySide6's own files, without importing Qt (that import is what fails when
they are missing). PySide6 bundles Qt itself; the X11 and OpenGL client libraries, fontconfig,
D-Bus and the like come from the system, and a fresh (server or container) install lacks many.
`python3 -m desktop.system_libraries` prints the packages to install on one line (nothing when
all is there), fallback fonts for Chinese, Japanese, Korean and emoji where no font covers them
among them, and names, on stderr, missing libraries it cannot map to a package.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

# Library -> Debian 12 package (Ubuntu has the same names, or provides them under them).
# Read from `dpkg -S` over `ldd` of the files in `qt_files()`, leaving out what every system has
# (libc6, libstdc++6, zlib1g ...). Fonts come along: libfontconfig1 depends on a font package.
PACKAGES = {
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libGLX.so.0": "libglx0", "libGLdispatch.so.0": "libglvnd0",
    "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6", "libbrotlicommon.so.1": "libbrotli1", "libbrotlidec.so.1": "libbrotli1",
    "libbsd.so.0": "libbsd0", "libdbus-1.so.3": "libdbus-1-3", "libexpat.so.1": "libexpat1",
    "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0", "libpng16.so.16": "libpng16-16",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-glx.so.0": "libxcb-glx0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
    "libsystemd.so.0": "libsystemd0", "libzstd.so.1": "libzstd1", "liblz4.so.1": "liblz4-1",
}
# Opened by Qt's X11 plugin at run time (dlopen), so `ldd` does not list it: checked by name.
LOADED_AT_RUN_TIME = ("libxcb-cursor.so.0",)

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def qt_files() -> list[Path]:
    """PySide6's X11 plugin and widgets module: between them they reach every library the window loads."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return []
    root = Path(spec.origin).parent
    candidates = [root / "Qt" / "plugins" / "platforms" / "libqxcb.so", *root.glob("QtWidgets*.so"),
                  *(root / "Qt" / "plugins" / "xcbglintegrations").glob("*.so")]
    return [p for p in candidates if p.is_file()]


def not_found(ldd_output: str) -> list[str]:
    """The libraries `ldd` reported as "not found"."""
    return _NOT_FOUND.findall(ldd_output)


def missing_libraries() -> list[str]:
    missing: set[str] = set()
    for path in qt_files():
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        missing.update(not_found(result.stdout))
    for library in LOADED_AT_RUN_TIME:
        if not ctypes.util.find_library(library.removeprefix("lib").split(".so")[0]):
            missing.add(library)
    return sorted(missing)


# Scripts whose text shows as empty boxes where no system font has their glyphs (a plain Debian
# has none for Chinese, Japanese and Korean, nor colour emoji): fontconfig's query -> the package
# with a font for it. WenQuanYi Micro Hei covers CJK in 5 MB (Noto CJK takes over 100).
FONTS = {":lang=zh": "fonts-wqy-microhei", ":charset=1f600": "fonts-noto-color-emoji"}


def missing_fonts() -> list[str]:
    """Packages of fallback fonts for scripts no installed font covers (nothing without fc-list)."""
    missing = []
    for query, package in FONTS.items():
        try:
            found = subprocess.run(["fc-list", query, "family"], capture_output=True, text=True, check=False)
        except OSError:
            return []  # no fontconfig tools: nothing to judge by
        if found.returncode == 0 and not found.stdout.strip():
            missing.append(package)
    return missing


def packages_for(libraries: list[str]) -> tuple[list[str], list[str]]:
    """(packages to install, libraries no package is known for)."""
    packages = sorted({PACKAGES[lib] for lib in libraries if lib in PACKAGES})
    return packages, [lib for lib in libraries if lib not in PACKAGES]


def main() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    packages, unknown = packages_for(missing_libraries())
    if unknown:
        print(f"Hearth's window also needs {', '.join(unknown)}; install the package that provides it.",
              file=sys.stderr)
    print(" ".join(packages + missing_fonts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
