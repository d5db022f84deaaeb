"""One small primitive for short background work (reading the hardware, for instance): run a
plain function in a QThread and get its result, or its failure as a sentence, by signal on the
GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from desktop.errors import explain


class _Call(QObject):
    done = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, fn: Callable[[], object]):
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:  # becomes a sentence for the person
            self.failed.emit(explain(error).text())
        else:
            self.done.emit(result)
        self.ended.emit()


class BackgroundCall(QObject):
    """`BackgroundCall(fn, parent)`; connect `done` / `failed`, then `start()`. `done` and
    `failed` are re-emitted by this object, which lives in the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._call = _Call(fn)
        self._thread = QThread()
        self._thread.setObjectName("background")
        self._call.moveToThread(self._thread)
        self._thread.started.connect(self._call.run)
        self._call.done.connect(self.done)
        self._call.failed.connect(self.failed)
        # Direct: the QThread object lives in the GUI thread, so a queued quit would wait for the
        # GUI's event loop, and `wait()` from the GUI thread would never see the thread end.
        self._call.ended.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = 10000) -> bool:
        return self._thread.wait(timeout_ms)
