"""Which model the window chats with: none, one loading (cancellable; a newer choice replaces
it) or one loaded, and the load requests to the inference worker that move between them.

While a model loads, the one it replaces is kept aside: a cancelled or failed load gives it
back, since the worker keeps it loaded too (except on a graphics card: `keeps_previous`).

The organisation's policy is checked before anything is read: a model it does not allow is
refused with the policy's sentence, and at start the first allowed installed model is loaded.

A model on a remote server (desktop/remote_servers.py: "gpt-oss-120b on llm.example.internal")
"loads" the same way: the worker connects and asks the server whether it serves the model.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from core.store.identity import find_model
from core.store.model_store import ModelStore
from core.system.policy import Policy, PolicyForbids
from desktop.errors import explain
from desktop.models_controller import ModelsController
from desktop.remote_servers import RemoteServers
from desktop.settings import Settings
from desktop.workers.inference import InferenceWorker, keeps_previous
from desktop.workers.remote_engine import REMOTE_DEVICE
from desktop.workers.requests import LoadedModel, LoadRequest


class ModelLoader(QObject):
    request_load = Signal(object, int)  # LoadRequest, token -> worker.load (queued)
    request_unload = Signal()
    changed = Signal()  # `loaded` or `loading` changed
    progress = Signal(int)  # percent of the loading model's weights placed
    loaded_model = Signal(str)  # a model finished loading: its id
    notice = Signal(str)  # a sentence for the person about the loaded model (it runs slower than it could)
    cancelled = Signal()  # the person cancelled the load
    problem = Signal(str, object, str)  # a sentence, (button text, action key) or None, technical details

    def __init__(self, worker: InferenceWorker, store: ModelStore, models: ModelsController, policy: Policy,
                 settings: Settings, remote: RemoteServers | None = None, parent=None):
        super().__init__(parent)
        self.worker, self.store, self.models, self.policy, self.settings = worker, store, models, policy, settings
        self.remote = remote or RemoteServers(settings, policy)
        self.loaded: LoadedModel | None = None
        self.loading: str | None = None
        self._previous: LoadedModel | None = None  # what `loading` replaces, kept by the worker
        self._token = 0
        self._memory_tight: str | None = None  # the model refused for lack of free memory, to load anyway
        # GUI -> worker: queued, since the worker lives in its own thread; worker -> GUI: bound
        # methods of this GUI-thread object (see workers/inference.py). Progress is emitted in
        # the middle of a load: queued explicitly, so its slot always runs in this thread.
        self.request_load.connect(worker.load)
        self.request_unload.connect(worker.unload)
        worker.load_progress.connect(self.on_load_progress, Qt.ConnectionType.QueuedConnection)
        worker.loaded.connect(self.on_loaded)
        worker.load_failed.connect(self.on_load_failed)
        worker.load_memory_tight.connect(self.on_load_memory_tight)
        worker.load_cancelled.connect(self.on_load_cancelled)

    @Slot()
    def load_initial(self) -> None:
        """At start: the model used last time if it may still be used, else the first allowed one.
        Where models may not run on this computer, only a remote one is loaded (`load_remote_first`)."""
        installed = self.models.installed()
        allowed = [m for m in installed if self.policy.allows_model(m)]
        wanted = self.settings.current_model
        if self.loaded is not None or self.loading is not None:
            return  # chosen already (a server's model, while the hardware was being read)
        if self.remote.find(wanted) is not None:
            self.use(wanted)
        elif self.policy.local_models is False:
            return
        elif wanted in allowed:
            self.use(wanted)
        elif allowed:
            self.use(allowed[0])
        elif installed and not self.policy.error:  # a broken policy file has its own banner
            self.use(wanted if wanted in installed else installed[0])  # says why it is refused

    def use(self, model_id: str, load_anyway: bool = False) -> None:
        """Loads `model_id` ("" unloads), replacing a load still running. `load_anyway`: although
        less memory is free than it needs (the person chose so after `problem` offered it)."""
        if not model_id:
            self.loaded = self._previous = None
            self.request_unload.emit()
            self.changed.emit()
            return
        try:
            request = self._request(model_id, load_anyway)
        except PolicyForbids as refusal:
            self.problem.emit(str(refusal), None, "")
            return
        except Exception as error:
            problem = explain(error)
            self.problem.emit(problem.text(), None, problem.details)
            return
        if self.loading is not None:
            self.worker.cancel_load(self._token)
        previous = self.loaded or self._previous
        self._previous = previous if previous and keeps_previous(previous.device, request.device) else None
        self._token = self.worker.next_load_token()
        self.loading, self.loaded = model_id, None
        self.request_load.emit(request, self._token)
        self.changed.emit()

    def _request(self, model_id: str, load_anyway: bool) -> LoadRequest:
        """What the worker is asked to load; the policy's refusal (`PolicyForbids`) first."""
        if (remote := self.remote.model(model_id)) is not None:
            return LoadRequest(model_id, Path(), REMOTE_DEVICE, remote=remote)
        self.policy.check_model(model_id)  # the id the person chose first: the plainest refusal
        # Then the installed folder, by what it holds (core/store/identity.py).
        folder = find_model(str(self.store.path(model_id)), self.policy)
        return LoadRequest(model_id, folder.path, self.models.device_for(model_id), folder.catalogue_id, load_anyway)

    def load_remote_first(self, names: list[str]) -> None:
        """A server listed its models: where nothing is loaded yet and models may not run on
        this computer (or none is installed), the first of them is loaded."""
        if self.loaded is not None or self.loading is not None or not names:
            return
        if self.policy.local_models is False or not self.models.installed():
            self.use(names[0])

    def cancel(self) -> None:
        """Stops the load at its next tensor. The previous model is usable again at once: a
        question asked now waits in the worker's queue only until the load has stopped."""
        if self.loading is None:
            return
        self.worker.cancel_load(self._token)
        self._give_back_previous()
        self.cancelled.emit()

    def _give_back_previous(self) -> None:
        self.loading, self.loaded, self._previous = None, self._previous, None
        self.changed.emit()

    # Load results carry their request's token: answers to loads since replaced are ignored.
    @Slot(int, int)
    def on_load_progress(self, token: int, percent: int) -> None:
        if token == self._token and self.loading is not None:
            self.progress.emit(percent)

    @Slot(object)
    def on_loaded(self, loaded: LoadedModel) -> None:
        if loaded.token != self._token:
            return
        # Even when cancelled a moment too late: the worker has this model now, not the previous.
        self.loading, self.loaded, self._previous = None, loaded, None
        self.settings.current_model = loaded.model_id
        self.loaded_model.emit(loaded.model_id)
        if loaded.notice:
            self.notice.emit(loaded.notice)
        self.changed.emit()

    @Slot(str, int, str)
    def on_load_failed(self, sentence: str, token: int, details: str = "") -> None:
        if token != self._token or self.loading is None:
            return
        self._give_back_previous()
        self.problem.emit(sentence, ("Open Models", "models"), details)

    @Slot(str, int)
    def on_load_memory_tight(self, sentence: str, token: int) -> None:
        if token != self._token or self.loading is None:
            return
        self._memory_tight = self.loading
        self._give_back_previous()
        self.problem.emit(sentence, ("Load anyway", "load-anyway"), "")

    def load_anyway(self) -> None:
        """The person's answer to a MemoryTight refusal: load that model after all."""
        if self._memory_tight:
            model_id, self._memory_tight = self._memory_tight, None
            self.use(model_id, load_anyway=True)

    @Slot(int)
    def on_load_cancelled(self, token: int) -> None:
        if token == self._token and self.loading is not None:  # not through `cancel()`, which is done
            self._give_back_previous()
