"""The "Local API for other apps" toggle: an OpenAI-compatible server on this computer
(`core.server.http`) answering with the model loaded in the window, opted into per session.

The toggle is the person's wish; the server runs while it is on and a model is loaded. The
inference worker starts it (the engine lives in its thread) and stops it when the model is
replaced, after which this controller starts it again on the new model. Turning the toggle
off or closing the window stops it. Refusals (the policy, a port in use) become a banner.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction

from core.system.policy import Policy
from desktop.settings import Settings
from desktop.widgets.status_bar import StatusBar
from desktop.workers.inference import InferenceWorker

HOST = "127.0.0.1"  # the window serves this computer only; `hearth serve --host` is for more


class LocalApi(QObject):
    request_start = Signal(str, int, object, int)  # host, port, policy, epoch -> worker.start_api
    problem = Signal(str)
    info = Signal(str)

    def __init__(self, worker: InferenceWorker, policy: Policy, settings: Settings, status: StatusBar,
                 parent=None):
        super().__init__(parent)
        self.worker, self.policy, self.settings, self.status = worker, policy, settings, status
        self.url: str | None = None
        self.starting = False  # a start is queued to the worker (which may be busy answering)
        self.model_ready = False
        self.action = QAction("&Local API for other apps", self)
        self.action.setCheckable(True)
        if policy.api_server_allowed:
            self.action.setToolTip("Lets other programs on this computer use the model through an "
                                   "OpenAI-compatible API (http://127.0.0.1:PORT/v1).")
        else:
            self.action.setEnabled(False)
            self.action.setToolTip(policy.lock_reason("api_server") or "")
        self.action.toggled.connect(self._toggled)
        # Worker -> GUI: bound methods of this GUI-thread object (see workers/inference.py).
        self.request_start.connect(worker.start_api)
        worker.api_started.connect(self.on_started)
        worker.api_failed.connect(self.on_failed)
        worker.api_stopped.connect(self.on_stopped)

    @property
    def wanted(self) -> bool:
        return self.action.isChecked()

    def set_model_ready(self, ready: bool) -> None:
        """The window loaded a model (True) or has none (False)."""
        self.model_ready = ready
        if ready and self.wanted and self.url is None and not self.starting:
            self._start()
        self._show_state()

    @Slot(bool)
    def _toggled(self, on: bool) -> None:
        if on and self.model_ready:
            self._start()
        elif on:
            self.info.emit("The local API starts as soon as a model is loaded.")
        else:
            self.worker.stop_api()  # thread-safe, and cancels a queued start
            self.url, self.starting = None, False
        self._show_state()

    def _start(self) -> None:
        self.starting = True
        self.request_start.emit(HOST, self.settings.api_port, self.policy, self.worker.api_epoch())

    @Slot(str)
    def on_started(self, url: str) -> None:
        self.url, self.starting = url, False
        self._show_state()
        self.info.emit(f"Other programs on this computer can now use the model at {url} "
                       "(OpenAI-compatible: /models, /chat/completions, /responses).")

    @Slot(str)
    def on_failed(self, sentence: str) -> None:
        self.url, self.starting = None, False
        self.action.blockSignals(True)  # nothing runs, so there is nothing to stop
        self.action.setChecked(False)
        self.action.blockSignals(False)
        self._show_state()
        self.problem.emit(sentence)

    @Slot()
    def on_stopped(self) -> None:
        self.url = None  # the model is being replaced: `set_model_ready` starts it again
        self._show_state()

    def _show_state(self) -> None:
        if self.url:
            self.status.set_api(f"API: {self.url}")
        elif self.wanted:
            self.status.set_api("API: starting…" if self.starting else "API: waiting for a model")
        else:
            self.status.set_api("")
