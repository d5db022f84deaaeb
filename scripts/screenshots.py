"""Renders the Hearth window's main screens to PNG for the README: chat, models, hardware,
documents (a folder of a PDF, a Word file and notes, indexed here), first launch, the chat in
the dark theme, and a chat whose model searches the documents and cites them with the document
viewer that opens a citation; offscreen, into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen python3 scripts/screenshots.py [OUT_DIR]

The chat shows a conversation read from a history database written here (no model needs to
answer); the model in the status bar is a tiny random checkpoint, loaded for real. The models
and hardware pages show what this machine really has.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QLocale, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.docs.library import Library  # noqa: E402
from core.docs.samples import make_docx, make_pdf  # noqa: E402
from core.engine.testing import tiny_config, write_checkpoint  # noqa: E402
from core.store.model_store import ModelStore  # noqa: E402
from desktop import theme  # noqa: E402
from desktop.app import create_app  # noqa: E402
from desktop.history import History  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.settings import Settings  # noqa: E402

SIZE = (1180, 760)
QUESTION = "How do I add up one column of a CSV file in Python?"
REASONING = ("The user wants to sum a column of a CSV file. The standard library's csv module is enough; "
             "DictReader lets them name the column. I'll show a short example, mention pandas as an "
             "alternative, and compare the two briefly.")
ANSWER = """You can do it with Python's built-in **csv** module — no extra installs needed:

```python
import csv

with open("sales.csv", newline="") as f:
    total = sum(float(row["amount"]) for row in csv.DictReader(f))
print(f"Total: {total:.2f}")
```

A few things to check:

1. The first line of the file must hold the column names.
2. Empty cells raise an error: skip them with `if row["amount"]`.
3. For very large files this still works, since rows are read one at a time.

| Approach | Extra install | Best for |
|---|---|---|
| `csv` module | none | simple sums, any file size |
| `pandas` | `pip install pandas` | filtering, grouping, charts |
"""


def wait(app: QApplication, predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get ready in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication) -> None:
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)


def documents_folder(tmp: Path) -> Path:
    """A folder of a few documents for the Documents page: a PDF, a Word file and notes."""
    folder = tmp / "Manuals"
    folder.mkdir(exist_ok=True)
    make_pdf(folder / "boiler-manual.pdf", [["Boiler manual"], ["Bleed the radiators before the first frost."]])
    make_docx(folder / "handbook.docx", "The pump in building nine is serviced every March.")
    (folder / "notes.md").write_text("# Notes\n\nThe spare key hangs inside the fuse cabinet.\n", encoding="utf-8")
    return folder


def window_for(app, tmp: Path, name: str, store: ModelStore, theme_name: str = "light") -> MainWindow:
    settings = Settings(tmp / f"{name}.ini")
    settings.theme = theme_name
    theme.apply_theme(app, theme_name)
    history = History(tmp / f"{name}.sqlite3")
    if name.startswith("chat"):
        older = history.create_conversation("Plan a weekend in Lisbon")
        history.add_message(older.id, "user", "Plan a weekend in Lisbon")
        history.add_message(older.id, "assistant", "Here is a plan…")
        history.create_conversation("Explain compound interest")
        conversation = history.create_conversation(QUESTION.rstrip("?"))
        history.add_message(conversation.id, "user", QUESTION)
        answer = history.add_message(conversation.id, "assistant", ANSWER, model="gpt-oss-20b")
        answer.reasoning, answer.reasoning_seconds = REASONING, 4.2
        history.update_message(answer)
    library = tmp / f"{name}-library"
    if name == "documents":
        Library(library).add(documents_folder(tmp))
    window = MainWindow(settings, history, store, library_dir=library)
    window.resize(*SIZE)
    window.show()
    wait(app, lambda: window.models.hardware is not None)
    return window


def tools_shots(app, tmp: Path, out: Path) -> None:
    """A chat whose model searches the documents, opens the manual and cites it (a tiny checkpoint
    scripted to make exactly those calls, tests/scripted_tools.py; the browser, the library and
    the citation links are the real ones), its steps unfolded; then the citation opened in the
    document viewer."""
    from desktop.citations import SCHEME
    from tests.scripted_tools import SEARCH_ROUNDS, make_documents, write_round_model

    store = ModelStore(tmp / "tools-models", offline=True)
    store.import_folder(write_round_model(tmp / "tools-model", SEARCH_ROUNDS), model_id="gpt-oss-20b", copy=False)
    library = tmp / "tools-library"
    Library(library).add(make_documents(tmp / "Manuals"))
    settings = Settings(tmp / "tools.ini")
    settings.temperature, settings.max_new_tokens = 0.0, 400
    theme.apply_theme(app, settings.theme)
    window = MainWindow(settings, History(tmp / "tools.sqlite3"), store, library_dir=library)
    window.resize(*SIZE)
    window.show()
    wait(app, lambda: window.loaded is not None and window.documents.library is not None)
    window.composer.tools.boxes["browser"].click()
    QTest.keyClicks(window.composer.edit, "What torque does the zephyr bearing need?")
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait(app, lambda: window.chat.stream.answer is not None)
    wait(app, lambda: not window.chat.busy)
    answer = window.transcript.views[-1]
    for step in answer.steps:
        step.set_expanded(True)
    settle(app)
    window.grab().save(str(out / "tools.png"))
    print(f"wrote {out / 'tools.png'}")
    answer.body.prose_labels()[0].linkActivated.emit(f"{SCHEME}:0")
    settle(app)
    window.tools.viewer.grab().save(str(out / "document-viewer.png"))
    print(f"wrote {out / 'document-viewer.png'}")
    window.tools.viewer.close()
    window.shutdown()
    window.history.close()
    window.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = create_app([])
    # Dates as a person reads them, whatever this build machine's locale (often C) says.
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        checkpoint = write_checkpoint(tmp / "tiny", tiny_config(vocab_size=201088))
        store = ModelStore(tmp / "models", offline=True)
        store.import_folder(checkpoint, model_id="gpt-oss-20b", copy=False)
        empty = ModelStore(tmp / "empty", offline=True)

        shots = [("chat", store, "light", "Chat"), ("chat-dark", store, "dark", "Chat"),
                 ("models", store, "light", "Models"), ("hardware", store, "light", "Hardware"),
                 ("documents", store, "light", "Documents"),
                 ("first-launch", empty, "light", "Chat")]
        for shot, shot_store, theme_name, page in shots:
            window = window_for(app, tmp, shot, shot_store, theme_name)
            if shot_store is store:
                wait(app, lambda w=window: w.loaded is not None)
            if shot.startswith("chat"):
                window.conversation_list.list.setCurrentRow(0)
            window.show_page(page)
            settle(app)
            window.grab().save(str(out / f"{shot}.png"))
            print(f"wrote {out / f'{shot}.png'}")
            window.shutdown()
            window.history.close()
            window.close()
        tools_shots(app, tmp, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
