"""The delete-model question: the model's name as the question, its folder on its own line,
elided in the middle with the full path as tooltip, and what deleting means."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.widgets.delete_model_dialog import DeleteModelDialog

LONG = "/media/ann/Samsung USB drive 256 GB/Backups/2026/language models for the laptop/gpt-oss-20b"


def test_the_name_is_the_question_and_a_long_folder_is_elided_in_the_middle(qtbot):
    dialog = DeleteModelDialog("gpt-oss-20b", LONG, "This frees 12.8 GiB. To use it again you must download it.")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # Once: "Delete gpt-oss-20b? ... the files in /media/ann/Samsung USB drive 256 GB/Back-" wrapped mid-path.
    assert dialog.message.text() == "Delete gpt-oss-20b?"
    shown = dialog.folder.text()
    assert "…" in shown and shown != LONG
    assert shown.startswith("/media/") and shown.endswith("gpt-oss-20b")  # both ends stay readable
    assert dialog.folder.fontMetrics().horizontalAdvance(shown) <= dialog.folder.width()
    assert dialog.folder.toolTip() == LONG and dialog.folder.accessibleName() == LONG
    assert "\n" not in shown and not dialog.folder.wordWrap()
    assert dialog.detail.text().startswith("This frees 12.8 GiB.")
    assert dialog.cancel_button.isDefault()


def test_a_short_folder_is_shown_whole(qtbot):
    dialog = DeleteModelDialog("gpt-oss-20b", "/m/gpt-oss-20b", "Hearth forgets it.")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.folder.text() == "/m/gpt-oss-20b"


def test_the_controller_asks_with_the_models_folder_and_deletes_on_delete(qtbot, make_window, store,
                                                                         tiny_checkpoint):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    window = make_window()
    window.models.set_current(None)
    for button, kept in (("cancel", True), ("delete", False)):
        def answer(button=button):
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, DeleteModelDialog)
            assert dialog.message.text() == "Delete gpt-oss-20b?"
            assert dialog.folder.toolTip() == str(tiny_checkpoint.resolve())
            assert dialog.detail.text() == "Hearth forgets it; the files in this folder stay where they are."
            (dialog.cancel_button if button == "cancel" else dialog.delete_button).click()

        QTimer.singleShot(0, answer)
        window.models.delete("gpt-oss-20b")
        assert store.is_installed("gpt-oss-20b") is kept
    assert tiny_checkpoint.is_dir()  # registered in place: its files stay
