"""The frozen program and its installer, end to end: `installer/build.sh` builds the CPU
bundle and the .run file (about 4 minutes here), the bundle's self-test passes inside a
network namespace with no network at all, and the installer installs into a temporary
prefix, the installed program runs, and the uninstaller leaves nothing behind."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "linux-cpu" / "hearth"
INSTALLER = REPO / "dist" / f"hearth-{importlib.metadata.version('hearth')}-linux-{platform.machine()}.run"

# Building the bundle takes ~5 minutes on 2 cores: more than the suite's per-test timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def build():
    """Builds once for the module; the build itself launches the bundle's self-test."""
    result = subprocess.run(["bash", "installer/build.sh"], cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "self-test passed" in result.stdout
    return result.stdout


def clean_env(home: Path) -> dict[str, str]:
    # Nothing from this checkout's Python may help the frozen program along.
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TMPDIR": str(home)}


def no_network_prefix() -> list[str]:
    """`unshare -n` (a new network namespace: only a loopback that is down) where we may make
    one; elsewhere the self-test's own audit of every socket is the proof."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def test_bundle_self_test_passes_with_no_network(build, tmp_path):
    command = [*no_network_prefix(), str(BUNDLE / "hearth"), "--self-test"]
    result = subprocess.run(command, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   network: no connection attempted, no Internet socket created" in result.stdout
    assert "ok   triton: not in this build (CPU only)" in result.stdout
    assert "ok   cpu kernels: Processor path: compiled" in result.stdout  # shipped built: no compiler needed
    assert "6 generated" in result.stdout
    # PDFium's native library, python-docx and FTS5 travel with the bundle; the python tool's worker
    # is the bundle's own program (--hearth-python-worker), isolated.
    assert "ok   documents: PDF, Word and HTML indexed and each fact found" in result.stdout
    assert "ok   python tool: two calls kept their state, numpy imported" in result.stdout
    assert list(tmp_path.iterdir()) == []  # HOME and TMPDIR: the self-test cleaned up after itself


def test_bundle_carries_sources_resources_and_licences(build):
    internal = BUNDLE / "_internal"
    assert (internal / "kernels" / "_moe_triton.py").is_file()  # Triton's JIT reads kernel source
    assert {p.name for p in (internal / "kernels" / "cpu" / "build").glob("_hearth_cpu_*.so")} >= {
        "_hearth_cpu_scalar.so", "_hearth_cpu_avx2.so", "_hearth_cpu_avx512.so", "_hearth_cpu_avx512_vnni.so"}
    assert (internal / "resources" / "o200k_base.tiktoken").stat().st_size == 3_613_922
    assert (internal / "resources" / "icons" / "hearth.svg").is_file()
    assert (internal / "resources" / "styles" / "dark.qss").is_file()
    for name in ("Hearth-LICENSE.txt", "Python-LICENSE.txt", "LGPL-3.0.txt", "GPL-3.0.txt"):
        assert (internal / "licenses" / name).stat().st_size > 1000, name
    assert list(internal.glob("torch-*.dist-info/licenses/LICENSE"))
    # Qt's X11 plugin needs these, and stock desktops often lack libxcb-cursor0: the bundle carries them.
    for library in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"):
        assert (internal / library).is_file(), library
    assert not (internal / "triton").exists()  # the CPU bundle leaves Triton out, by design
    assert not (internal / "pytest").exists()


def test_installer_installs_runs_and_uninstalls_cleanly(build, tmp_path):
    prefix, home = tmp_path / "prefix", tmp_path / "home"
    home.mkdir()
    env = clean_env(home)
    result = subprocess.run([str(INSTALLER), "--quiet", "--", "--prefix", str(prefix)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    app = prefix / "share" / "hearth"
    command = prefix / "bin" / "hearth"
    desktop = prefix / "share" / "applications" / "hearth.desktop"
    icon = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "hearth.svg"
    assert os.path.realpath(command) == str(app / "hearth")
    entry = desktop.read_text()
    assert f"Exec={app / 'hearth'}\n" in entry and "Icon=hearth\n" in entry
    assert icon.read_bytes() == (REPO / "resources" / "icons" / "hearth.svg").read_bytes()
    assert sorted(os.listdir(home)) == []  # nothing written outside the prefix

    ran = subprocess.run([*no_network_prefix(), str(command), "--self-test"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr

    # Installing again over it replaces the program in place.
    again = subprocess.run([str(INSTALLER), "--quiet", "--", "--prefix", str(prefix)], env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr

    removed = subprocess.run([str(app / "uninstall.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    left = [p for p in prefix.rglob("*") if not p.is_dir()]
    assert left == []
    assert not app.exists()


def test_installer_refuses_a_folder_it_did_not_make(build, tmp_path):
    prefix = tmp_path / "prefix"
    (prefix / "share" / "hearth").mkdir(parents=True)
    (prefix / "share" / "hearth" / "precious.txt").write_text("keep me")
    result = subprocess.run([str(INSTALLER), "--quiet", "--", "--prefix", str(prefix)], env=clean_env(tmp_path),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "was not made by this installer" in result.stderr
    assert (prefix / "share" / "hearth" / "precious.txt").read_text() == "keep me"
