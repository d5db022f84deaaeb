"""Renders the window chatting with a model on each live server given, for the record that a
remote model works in the window against real servers (llama.cpp's `llama-server`, Hearth's own
`hearth serve`): the Servers dialog listing them, then one chat per server, the reasoning shown.

    QT_QPA_PLATFORM=offscreen python3 scripts/remote_screenshots.py OUT_DIR NAME=URL|NAME=scripted [...]

The window asks each server for its models, loads the first, types the question into the
message box and waits for the streamed answer. Random-weight test models answer nonsense (a
tiny one under `hearth serve` mostly nothing readable); `scripted` starts Hearth's own API
server in this process on a scripted engine session (tests/core/server/api_fixtures.py: the
HTTP API, harmony rendering and parsing are the real ones, the model's tokens are a fixed
reply), so the window shows reasoning and an answer a person can read. Each chat is saved as
OUT_DIR/remote-chat-NAME.png.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from screenshots import settle, wait  # noqa: E402  (scripts/screenshots.py, beside this one)

from core.store.model_store import ModelStore  # noqa: E402
from desktop import theme  # noqa: E402
from desktop.app import create_app  # noqa: E402
from desktop.history import History  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.settings import Settings  # noqa: E402
from desktop.widgets.servers_dialog import ServersDialog  # noqa: E402

SIZE = (1180, 760)
QUESTION = "Say hello in one sentence."
SCRIPTED_REPLY = ("<|channel|>analysis<|message|>A greeting in one sentence; keep it warm and short.<|end|>"
                  "<|start|>assistant<|channel|>final<|message|>Hello! I'm gpt-oss, answering from your "
                  "organisation's server.<|return|>")


def scripted_server(servers: contextlib.ExitStack) -> str:
    """Hearth's `ApiServer` on loopback, answering with the scripted reply until `servers` closes;
    its URL."""
    from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
    from core.server.http import ServedModel
    from tests.core.server.api_fixtures import ScriptedSession, running

    tok = load_tokenizer(shipped_vocabulary())
    return servers.enter_context(running(ServedModel("gpt-oss-120b", tok,
                                                      ScriptedSession(tok, SCRIPTED_REPLY, delay=0.02)))).url


def main(out: Path, urls: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-remote-shots-"))
    store = ModelStore(tmp / "models", offline=True)
    with contextlib.ExitStack() as servers:
        for n, named in enumerate(urls):
            label, _, url = named.partition("=")
            if url == "scripted":
                url = scripted_server(servers)
            shoot(app, tmp, store, out, n, label, url, urls)


def shoot(app, tmp: Path, store: ModelStore, out: Path, n: int, label: str, url: str, urls: list[str]) -> None:
    """The n-th window: the server at `url` added, its model loaded, a question answered, grabbed."""
    settings = Settings(tmp / f"{n}.ini")
    settings.reasoning_display = "shown"
    settings.max_new_tokens = 60
    theme.apply_theme(app, settings.theme)
    window = MainWindow(settings, History(tmp / f"{n}.sqlite3"), store)
    window.resize(*SIZE)
    window.show()
    error = window.remote.add(url, "chat", "")
    if error:
        raise SystemExit(f"{url}: {error}")
    wait(app, lambda w=window: w.loaded is not None or w.banner.isVisible(), timeout=120)
    if window.loaded is None:
        raise SystemExit(f"{url}: {window.banner.label.text()}")
    if n == len(urls) - 1:  # the last window knows every server added so far: its Model menu lists them all
        for earlier in urls[:-1]:
            earlier_url = earlier.partition("=")[2]
            if earlier_url != "scripted":
                window.remote.add(earlier_url, "chat", "")
        wait(app, lambda w=window: all(group.names or group.problem for group in w.remote.listed()), timeout=120)
        menu = window.switcher.menu
        menu.popup(window.switcher.button.mapToGlobal(window.switcher.button.rect().bottomLeft()))
        settle(app)
        menu.grab().save(str(out / "model-menu.png"))
        menu.hide()
    if n == 0:
        dialog = ServersDialog(window.remote, window)
        dialog.show()
        listed = lambda d=dialog: "model" in d.list.item(0).text() and "asking" not in d.list.item(0).text()  # noqa: E731
        wait(app, listed, timeout=120)
        settle(app)
        dialog.grab().save(str(out / "servers-dialog.png"))
        dialog.close()
    QTest.keyClicks(window.composer.edit, QUESTION)
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait(app, lambda w=window: w.chat.stream.answer is not None, timeout=120)
    wait(app, lambda w=window: not w.chat.busy, timeout=120)
    settle(app)
    path = out / f"remote-chat-{label}.png"
    window.grab().save(str(path))
    print(f"{url}: {window.loaded.model_id} -> {path}")
    window.shutdown()
    window.history.close()
    window.close()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2:])
