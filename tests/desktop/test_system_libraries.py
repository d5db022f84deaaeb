"""desktop.system_libraries: which packages scripts/start installs on Debian/Ubuntu before the
window's first start. (The whole path, removing the packages in an overlaid copy of the system,
`bash scripts/start` under Xvfb and a screenshot, needs root and apt: done by hand, not here.)"""

import subprocess
import sys

from desktop import system_libraries

LDD = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /site-packages/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibEGL.so.1 => not found
\tlibweird.so.7 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)
"""


def test_missing_libraries_are_read_from_ldd_and_named_as_packages():
    missing = system_libraries.not_found(LDD)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libEGL.so.1", "libweird.so.7"]
    packages, unknown = system_libraries.packages_for(missing)
    assert packages == ["libegl1", "libxcb-icccm4", "libxcb-keysyms1"]
    assert unknown == ["libweird.so.7"]


def test_the_checked_files_include_the_x11_plugin():
    names = [p.name for p in system_libraries.qt_files()]
    assert "libqxcb.so" in names and any(n.startswith("QtWidgets") for n in names)


def test_the_command_prints_one_line_of_packages_and_does_not_import_qt():
    probe = ("import sys; from desktop import system_libraries; system_libraries.main(); "
             "print([m for m in sys.modules if m.startswith('PySide6.Qt')], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1  # this machine may lack some, or none (an empty line)
    assert result.stderr.strip().endswith("[]")  # Qt itself was never loaded
