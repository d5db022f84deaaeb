"""The About dialog: the version, and each bundled component with its licence text."""

from __future__ import annotations

from desktop.widgets.about_dialog import AboutDialog, Component, components, hearth_version


def test_components_cover_hearth_python_the_vocabulary_and_every_requirement():
    found = {c.name: c for c in components()}
    for name in ("Hearth", "Python", "o200k_base vocabulary (tiktoken)", "torch", "numpy", "safetensors",
                 "tiktoken", "PySide6_Essentials", "shiboken6"):
        assert name in found, name
    assert found["Hearth"].version == hearth_version() != "unknown (not installed)"
    assert "Apache License" in found["Hearth"].texts[0][1]
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in found["Python"].texts[0][1]
    # PySide6 names the LGPL only in its metadata: the text comes from installer/licenses/.
    assert [name for name, _ in found["PySide6_Essentials"].texts] == ["LGPL-3.0.txt", "GPL-3.0.txt"]
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in found["PySide6_Essentials"].texts[0][1]
    assert "MIT" in found["o200k_base vocabulary (tiktoken)"].texts[0][1]
    # Test-only tools are not part of what Hearth carries.
    assert not {"pytest", "ruff", "openai-harmony"} & set(found)


def test_dialog_shows_the_version_and_the_chosen_licence(qtbot):
    items = [Component("Hearth", "9.9", "Apache-2.0", (("LICENSE", "Apache text"),)),
             Component("quiet", "1.0", "BSD", ())]
    dialog = AboutDialog(items=items)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2
    assert dialog.list.item(0).text() == "Hearth 9.9 — Apache-2.0"
    assert dialog.text.toPlainText() == "==== LICENSE ====\n\nApache text"
    dialog.list.setCurrentRow(1)
    assert dialog.text.toPlainText() == "quiet is distributed under BSD; the package ships no licence file."
