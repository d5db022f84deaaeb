"""Which model the window chats with: none, one loading (cancellable; a newer choice replaces
it) or one loaded, and the load requests to the inference worker that move between them.

The organisation's policy is checked before anything is read: a model it does not allow is
refused with the policy's sentence, and at start the first allowed installed model is loaded.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from core.model_store import ModelStore
from core.policy import Policy, PolicyForbids
from desktop.errors import explain
from desktop.models_controller import ModelsController
from desktop.settings import Settings
from desktop.workers.inference import InferenceWorker, LoadedModel, LoadRequest


class ModelLoader(QObject):
    request_load = Signal(object, int)  # LoadRequest, token -> worker.load (queued)
    request_unload = Signal()
    changed = Signal()  # `loaded` or `loading` changed
    loaded_model = Signal(str)  # a model finished loading: its id
    problem = Signal(str, object)  # a sentence, and (button text, action key) or None
    info = Signal(str)

    def __init__(self, worker: InferenceWorker, store: ModelStore, models: ModelsController, policy: Policy,
                 settings: Settings, parent=None):
        super().__init__(parent)
        self.worker, self.store, self.models, self.policy, self.settings = worker, store, models, policy, settings
        self.loaded: LoadedModel | None = None
        self.loading: str | None = None
        self._token = 0
        # GUI -> worker: queued, since the worker lives in its own thread; worker -> GUI: bound
        # methods of this GUI-thread object (see workers/inference.py).
        self.request_load.connect(worker.load)
        self.request_unload.connect(worker.unload)
        worker.loaded.connect(self.on_loaded)
        worker.load_failed.connect(self.on_load_failed)
        worker.load_cancelled.connect(self.on_load_cancelled)

    @Slot()
    def load_initial(self) -> None:
        """At start: the model used last time if it may still be used, else the first allowed one."""
        installed = self.models.installed()
        allowed = [m for m in installed if self.policy.allows_model(m)]
        wanted = self.settings.current_model
        if wanted in allowed:
            self.use(wanted)
        elif allowed:
            self.use(allowed[0])
        elif installed and not self.policy.error:  # a broken policy file has its own banner
            self.use(wanted if wanted in installed else installed[0])  # says why it is refused

    def use(self, model_id: str) -> None:
        """Loads `model_id` ("" unloads), replacing a load still running."""
        if not model_id:
            self.loaded = None
            self.request_unload.emit()
            self.changed.emit()
            return
        try:
            self.policy.check_model(model_id)
            path = self.store.path(model_id)
        except PolicyForbids as refusal:
            self.problem.emit(str(refusal), None)
            return
        except Exception as error:
            self.problem.emit(explain(error).text(), None)
            return
        if self.loading is not None:
            self.worker.cancel_load(self._token)
        self._token = self.worker.next_load_token()
        self.loading, self.loaded = model_id, None
        self.request_load.emit(LoadRequest(model_id, path, self.models.device_for(model_id)), self._token)
        self.changed.emit()

    def cancel(self) -> None:
        if self.loading is None:
            return
        self.worker.cancel_load(self._token)
        self.loading = None
        self.changed.emit()
        self.info.emit("Loading was cancelled. Choose a model from the model menu when you are ready.")

    # Load results carry their request's token: answers to loads since replaced are ignored.
    @Slot(object)
    def on_loaded(self, loaded: LoadedModel) -> None:
        if loaded.token != self._token:
            return
        self.loading, self.loaded = None, loaded
        self.settings.current_model = loaded.model_id
        self.loaded_model.emit(loaded.model_id)
        self.changed.emit()

    @Slot(str, int)
    def on_load_failed(self, sentence: str, token: int) -> None:
        if token != self._token:
            return
        self.loading = None
        self.changed.emit()
        self.problem.emit(sentence, ("Open Models", "models"))

    @Slot(int)
    def on_load_cancelled(self, token: int) -> None:
        if token != self._token:
            return
        self.loading = None
        self.changed.emit()
