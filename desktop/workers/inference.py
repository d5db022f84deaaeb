"""The one inference worker: a QObject living in its own QThread that owns the loaded model,
its tokenizer and its chat session. The GUI thread never runs torch.

The GUI asks for work through queued signals connected to this object's slots, and gets
results through this object's signals, connected to slots of GUI-thread objects (never to
lambdas: a lambda has no thread affinity, so it would run here, in the worker thread).
Stopping does not go through the event queue, which is busy while generating: `stop()` sets a
`threading.Event` the decode loop checks before every step, and `cancel_load()` one the load
checks between two tensors.

A load keeps the model it replaces until it succeeds, so a cancelled or failed load leaves the
previous model usable; except on a graphics card, which holds one model at a time
(`keeps_previous`).

The worker also runs the optional local API (`start_api`): the server gets its own session of
the loaded model, so it is made here, where the engine lives; it is stopped when the model is
replaced or unloaded, and `stop_api()` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.chat.events import Event, Finished, PromptProgress, Speed, ToolRunning
from core.system.policy import Policy
from desktop.errors import api_problem, explain
from desktop.workers.remote_engine import REMOTE_DEVICE
from desktop.workers.requests import ChatRequest, GenerateFn, LoadedModel, LoadFn, LoadRequest, ServeFn

# How many text events are batched into one signal at most, and for how long: fewer, larger
# signals keep the GUI's event queue short when a small model decodes hundreds of tokens a second.
# Reading progress is sent at once: the next event may be seconds away while a long prompt is read;
# so is a built-in tool starting, which may run for a minute before the next event.
BATCH_SECONDS = 0.03


def keeps_previous(previous_device: str, device: str) -> bool:
    """Whether a model on `previous_device` stays loaded while one loads on `device`. CPU weights
    are mapped from their files, so two models fit; a graphics card's memory plan counts its
    free memory, so the old model must leave it first. A model on a server takes no memory here."""
    return previous_device == "cpu" or device in ("cpu", REMOTE_DEVICE)


class _LoadReporter:
    """The load's progress callback, run in the worker thread: emits `load_progress` (queued to
    the GUI) only when the whole percent changes, so a model of thousands of tensors does not
    flood the window's event queue."""

    def __init__(self, worker: InferenceWorker, token: int):
        self.worker, self.token, self.percent = worker, token, -1

    def __call__(self, fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if percent != self.percent:
            self.percent = percent
            self.worker.load_progress.emit(self.token, percent)


class InferenceWorker(QObject):
    # Load results carry the request's token: the GUI ignores answers to loads it has since replaced.
    load_progress = Signal(int, int)  # token, percent of the weights placed
    loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str, int, str)  # a sentence for the person, token, its technical details
    load_memory_tight = Signal(str, int)  # less memory is free than the model needs: the person may load anyway
    load_cancelled = Signal(int)
    events = Signal(list)  # a batch of core.chat.events events, in order
    generation_failed = Signal(str)
    live_speed = Signal(float)  # tokens/s of the answer being written, while it streams
    api_started = Signal(str)  # the local API's base URL
    api_failed = Signal(str)  # a sentence for the person
    api_stopped = Signal()

    def __init__(self, load_fn: LoadFn | None = None, generate_fn: GenerateFn | None = None,
                 serve_fn: ServeFn | None = None):
        super().__init__()
        # None: the real engine, imported on first use in the worker thread, so the window opens
        # without waiting seconds for torch to import.
        self._load_fn = load_fn
        self._generate_fn = generate_fn
        self._serve_fn = serve_fn
        self._engine = None
        self._model_id = ""
        self._device = ""
        self._server = None
        self._api_epoch = 0  # bumped by each stop_api(): a start asked for before it is void
        self._stop = threading.Event()
        self._load_token = 0
        self._cancelled_loads: set[int] = set()
        self._load_cancels: dict[int, threading.Event] = {}  # the loads running, by token
        self._lock = threading.Lock()

    # -- called from the GUI thread (thread-safe) ----------------------------------------
    def stop(self) -> None:
        """Stops the current answer before the next decode step."""
        self._stop.set()

    def cancel_load(self, token: int) -> None:
        """The load `token` is no longer wanted: it stops before its next tensor (or never
        starts), and whatever it returns is thrown away."""
        with self._lock:
            self._cancelled_loads.add(token)
            if token in self._load_cancels:
                self._load_cancels[token].set()

    def next_load_token(self) -> int:
        with self._lock:
            self._load_token += 1
            return self._load_token

    def latest_load_token(self) -> int:
        with self._lock:
            return self._load_token

    def api_epoch(self) -> int:
        """Pass it to `start_api`: a `stop_api()` in between cancels that start."""
        with self._lock:
            return self._api_epoch

    def stop_api(self) -> None:
        """Stops the local API, if it runs, and cancels a start still queued."""
        with self._lock:
            self._api_epoch += 1
        self._close_server()

    def _close_server(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()  # waits for its loop to end (half a second at most); cancels its answer
            self.api_stopped.emit()

    # -- slots, run in the worker thread ---------------------------------------------------
    @Slot(object, int)
    def load(self, request: LoadRequest, token: int) -> None:
        cancel = threading.Event()
        with self._lock:
            dropped = token in self._cancelled_loads
            if not dropped:
                self._load_cancels[token] = cancel
        if dropped:  # replaced or cancelled while queued: touch nothing
            self.load_cancelled.emit(token)
            return
        self._close_server()  # it serves the old model; the window starts it again afterwards
        if self._engine is not None and not keeps_previous(self._device, request.device):
            self._engine = None  # free the old model's memory before placing the new one
        try:
            self._import_engine()
            engine = self._load_fn(request, _LoadReporter(self, token), cancel)
        except Exception as error:  # every failure becomes a sentence for the person
            if cancel.is_set() or explain(error).cancelled:
                self.load_cancelled.emit(token)
            elif type(error).__name__ == "MemoryTight":  # core.errors; the engine is imported lazily
                self.load_memory_tight.emit(describe(error), token)
            else:
                problem = explain(error)
                self.load_failed.emit(problem.text(), token, problem.details)
            return
        finally:
            with self._lock:
                del self._load_cancels[token]
        if self._was_cancelled(token):
            self.load_cancelled.emit(token)
            return
        self._engine, self._model_id, self._device = engine, request.model_id, request.device
        model = getattr(engine, "model", None)
        self.loaded.emit(LoadedModel(request.model_id, request.path, request.device,
                                     getattr(engine, "context_length", 0), token,
                                     getattr(model, "notice", None) or ""))

    @Slot()
    def unload(self) -> None:
        self._close_server()
        self._engine = None

    @Slot(object)
    def generate(self, request: ChatRequest) -> None:
        self._stop.clear()
        if self._engine is None:
            self.generation_failed.emit("No model is loaded. Choose one from the Model menu first.")
            return
        batch: list[Event] = []
        last_flush = time.monotonic()
        try:
            for event in self._generate_fn(self._engine, request, self._stop):
                if isinstance(event, Speed):  # the core's own figure, while the answer is written
                    self.live_speed.emit(event.tokens_per_second)
                batch.append(event)
                now = time.monotonic()
                if isinstance(event, Finished | PromptProgress | ToolRunning) or now - last_flush >= BATCH_SECONDS:
                    self.events.emit(batch)
                    batch, last_flush = [], now
        except Exception as error:
            if batch:
                self.events.emit(batch)
            self.generation_failed.emit(describe(error))
            return
        if batch:
            self.events.emit(batch)

    @Slot(str, int, object, int)
    def start_api(self, host: str, port: int, policy: Policy, epoch: int) -> None:
        """Serves the loaded model at http://host:port/v1 (see `core.server.http`)."""
        self._close_server()
        if epoch != self.api_epoch():
            return  # turned off again before this request was reached
        if self._engine is None:
            self.api_failed.emit("The local API needs a model: choose one from the Model menu, then turn it on.")
            return
        self._import_engine()
        try:
            server = self._serve_fn(self._engine, self._model_id, host, port, policy)
        except Exception as error:  # policy refusals, a port in use ... become a sentence
            self.api_failed.emit(api_problem(error, host, port))
            return
        with self._lock:
            current = epoch == self._api_epoch
            if current:
                self._server = server
        if not current:  # stop_api() ran while the server was starting
            server.stop()
            return
        self.api_started.emit(server.url)

    def _import_engine(self) -> None:
        if self._load_fn is None or self._generate_fn is None or self._serve_fn is None:
            from desktop.workers import engine_adapter

            self._load_fn = self._load_fn or engine_adapter.load_engine
            self._generate_fn = self._generate_fn or engine_adapter.generate
            self._serve_fn = self._serve_fn or engine_adapter.serve

    def _was_cancelled(self, token: int) -> bool:
        with self._lock:
            return token in self._cancelled_loads


def describe(error: BaseException) -> str:
    return explain(error).text()


NICENESS = 5  # how much lower than the window the model's threads run


def lower_this_threads_priority() -> None:
    """Makes the calling thread yield to the window when the processor is busy. On Linux every
    thread has its own nice value, and the compute threads torch starts from this thread inherit
    it; elsewhere Qt's thread priority is the means at hand."""
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):  # not allowed here: run at normal priority
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS)
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


class InferenceThread:
    """Starts the worker in its own QThread, at a lower priority than the window, and shuts
    both down cleanly."""

    def __init__(self, worker: InferenceWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("inference")
        worker.moveToThread(self.thread)
        # Direct: runs in the new thread as it starts, before torch creates its compute threads.
        self.thread.started.connect(lower_this_threads_priority, Qt.ConnectionType.DirectConnection)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.worker.stop()
        self.worker.stop_api()
        self.worker.cancel_load(self.worker.latest_load_token())  # earlier ones were replaced by it
        self.thread.quit()
        self.thread.wait(timeout_ms)
