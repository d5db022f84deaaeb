"""About Hearth: the version, and every bundled component with its licence text.

`components()` is Qt-free and is also what the installer's spec uses to decide which licence
files go into the bundle, so the dialog and the bundle list the same components. It follows
Hearth's own requirements through the installed package metadata; a component the running
program does not carry (Triton in the CPU-only bundle) has no metadata there and is left out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import platform
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
)

_REPO = Path(__file__).resolve().parents[2]
# Licence texts a package does not ship itself (PySide6 and shiboken6 name the LGPL in their
# metadata only), kept in installer/licenses/ and copied by the spec to licenses/ in the bundle.
FALLBACK_TEXTS = {"LGPL": ("LGPL-3.0.txt", "GPL-3.0.txt")}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str  # SPDX expression or the package's own words
    texts: tuple[tuple[str, str], ...]  # (file name, text), possibly empty


def hearth_version() -> str:
    try:
        return importlib.metadata.version("hearth")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def licence_dir() -> Path:
    """Where the bundle keeps licence texts that do not come with a package's metadata."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) / "licenses" if frozen else _REPO / "installer" / "licenses"


def distributions(root: str = "hearth") -> list[importlib.metadata.Distribution]:
    """`root` and everything it requires, recursively (extras left out), as installed here."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = _normalise(pending.pop())
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not carried by this program (or not installed in a source checkout)
        seen[name] = dist
        for requirement in dist.requires or []:
            if "extra ==" in requirement.replace("extra==", "extra =="):
                continue
            if match := _NAME.match(requirement):
                pending.append(match.group(1))
    return sorted(seen.values(), key=lambda d: _normalise(d.metadata["Name"]))


def components() -> list[Component]:
    """Hearth, Python, the vocabulary, and every package Hearth carries, with licence texts."""
    hearth = Component("Hearth", hearth_version(), "Apache-2.0", _texts_of_files(
        ("LICENSE", licence_dir() / "Hearth-LICENSE.txt", _REPO / "LICENSE")))
    python = Component("Python", platform.python_version(), "PSF-2.0", _texts_of_files(
        ("LICENSE", licence_dir() / "Python-LICENSE.txt", Path(sysconfig.get_path("stdlib")) / "LICENSE.txt")))
    vocabulary = importlib.resources.files("resources") / "LICENSES.txt"
    vocab = Component("o200k_base vocabulary (tiktoken)", "", "MIT",
                      (("LICENSES.txt", vocabulary.read_text(encoding="utf-8")),))
    packages = [_component(dist) for dist in distributions() if _normalise(dist.metadata["Name"]) != "hearth"]
    return [hearth, python, vocab, *packages]


def _licence_file(dist: importlib.metadata.Distribution, name: str) -> str | None:
    """A licence file of an installed package. Some are not UTF-8 (a Latin-1 "©"): those are read
    as bytes and decoded as Latin-1, so one package's file can never keep the dialog from opening."""
    try:
        return dist.read_text(name)
    except UnicodeDecodeError:
        for file in dist.files or ():
            if file.as_posix().endswith(f".dist-info/{name}"):
                return file.locate().read_bytes().decode("latin-1")
        return None


def _component(dist: importlib.metadata.Distribution) -> Component:
    meta = dist.metadata
    licence = _licence_name(meta)
    texts = []
    for file_name in dict.fromkeys(meta.get_all("License-File") or []):
        # Metadata 2.4 keeps them in licenses/; older wheels beside METADATA.
        text = _licence_file(dist, f"licenses/{file_name}") or _licence_file(dist, file_name)
        if text:
            texts.append((file_name, text))
    if not texts:
        for key, names in FALLBACK_TEXTS.items():
            if key in licence:
                texts = [(n, (licence_dir() / n).read_text(encoding="utf-8")) for n in names
                         if (licence_dir() / n).is_file()]
    return Component(meta["Name"], dist.version, licence, tuple(texts))


def _licence_name(meta) -> str:
    if expression := meta.get("License-Expression"):
        return expression
    words = (meta.get("License") or "").strip()
    if words and len(words) < 100 and "\n" not in words:
        return words
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return ", ".join(classifiers)
    return words.splitlines()[0] if words else "see the licence text"


def _texts_of_files(candidates: tuple) -> tuple[tuple[str, str], ...]:
    label, *paths = candidates
    for path in paths:
        if path.is_file():
            return ((label, path.read_text(encoding="utf-8", errors="replace")),)
    return ()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class AboutDialog(QDialog):
    """Help → About Hearth: the version on top, the components on the left, a licence on the right."""

    def __init__(self, parent=None, items: list[Component] | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Hearth")
        self.items = items if items is not None else components()
        heading = QLabel(f"<h2>Hearth {hearth_version()}</h2>"
                         "<p>Chat with OpenAI's open-weight gpt-oss models on your own computer, fully offline.</p>"
                         "<p>Hearth is free software under the Apache License 2.0. It is built from the "
                         "components below, each under its own licence.</p>")
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.RichText)
        self.list = QListWidget()
        self.list.setAccessibleName("Components")
        for item in self.items:
            version = f" {item.version}" if item.version else ""
            self.list.addItem(f"{item.name}{version} — {item.licence}")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Licence text")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.list.currentRowChanged.connect(self.show_licence)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(900, 600)
        if self.items:
            self.list.setCurrentRow(0)

    def show_licence(self, row: int) -> None:
        if not 0 <= row < len(self.items):
            return
        item = self.items[row]
        if item.texts:
            body = "\n\n".join(f"==== {name} ====\n\n{text}" for name, text in item.texts)
        else:
            body = f"{item.name} is distributed under {item.licence}; the package ships no licence file."
        self.text.setPlainText(body)
