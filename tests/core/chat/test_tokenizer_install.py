"""The shipped vocabulary travels inside an installed Hearth: build the wheel and look in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from core.chat.tokenizer import shipped_vocabulary

REPO = Path(__file__).resolve().parents[3]


def test_wheel_contains_the_vocabulary_and_its_licence(tmp_path):
    # Built from a copy so the shared work tree gets no build/ or egg-info folders.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for package in ("core", "cli", "kernels", "desktop", "resources"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("hearth-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("resources/o200k_base.tiktoken") == shipped_vocabulary().read_bytes()
        assert b"toktok-rs" in archive.read("resources/LICENSES.txt")
        assert "core/chat/tokenizer.py" in archive.namelist()
