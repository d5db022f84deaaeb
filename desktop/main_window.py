"""The main window: navigation (Chat, Documents, Models, Hardware), the pages, shortcuts, the model
switcher and status bar, and the wiring between the controllers (the chat, the list of chats in
desktop/conversations_controller.py, models, documents, tools), the menu bar
(desktop/widgets/menu_bar.py) and the inference worker. Every cross-thread signal here ends in a
slot of a GUI-thread object.

The organisation's policy (the one the model store was made with) is applied here to what the
window shows: locked settings, models that may not be loaded, how reasoning is shown, whether
the local API may run; a policy file that could not be used is announced in a banner that stays.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.store.model_store import ModelStore
from core.system.environment import default_models_dir, offline_from_env
from desktop import theme
from desktop.chat_controller import ChatController
from desktop.conversations_controller import ConversationsController
from desktop.documents_controller import DocumentsController
from desktop.egress_monitor import EgressMonitor, Guard
from desktop.history import History
from desktop.local_api import LocalApi
from desktop.model_loader import ModelLoader
from desktop.models_controller import ModelsController
from desktop.remote_controller import RemoteController
from desktop.settings import Settings
from desktop.tools_controller import ToolsController
from desktop.widgets.chat_page import ChatPage
from desktop.widgets.documents_panel import DocumentsPanel
from desktop.widgets.error_banner import ErrorBanner
from desktop.widgets.first_launch import FirstLaunch
from desktop.widgets.hardware_panel import HardwarePanel
from desktop.widgets.menu_bar import MenuBar
from desktop.widgets.models_panel import ModelsPanel
from desktop.widgets.status_bar import StatusBar
from desktop.workers.inference import InferenceThread, InferenceWorker
from desktop.workers.remote_engine import REMOTE_DEVICE
from desktop.workers.requests import LoadedModel

PAGES = ("Chat", "Documents", "Models", "Hardware")


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, history: History, store: ModelStore,
                 worker: InferenceWorker | None = None, guard: Guard | None = None,
                 library_dir: str | Path | None = None):
        """`guard`: the process's egress guard (`core.system.egress.guard()`), None when none is installed;
        `library_dir`: where the document library keeps its index (None: HEARTH_DOCS_DIR or the default)."""
        super().__init__()
        self.settings, self.history, self.store = settings, history, store
        self._library_dir = library_dir
        self.policy = store.policy
        self.setWindowTitle("Hearth")
        self.resize(1100, 720)
        self._shut_down = False
        self._build()
        self.inference = InferenceThread(worker or InferenceWorker())
        self.local_api = LocalApi(self.inference.worker, self.policy, settings, self.status, self)
        self.local_api.problem.connect(self.show_problem)
        self.local_api.info.connect(self.show_info)
        self._connect_worker(self.inference.worker)
        self.egress = EgressMonitor(guard, self) if guard is not None else None
        if self.egress is not None:
            self.egress.changed.connect(self._egress_changed)
            self.status.egress_clicked.connect(self.open_egress_log)
            self.egress.set_offline(self._offline())  # the person's setting, as the policy allows
        self.remote.guard = guard
        self._menus()
        theme.scale_fonts(self)
        if not settings.window_geometry.isEmpty():
            self.restoreGeometry(settings.window_geometry)
        # The first model loads once the hardware is known: it decides the device.
        self.models.hardware_ready.connect(self.loader.load_initial, Qt.ConnectionType.SingleShotConnection)
        self.models.refresh()
        self.models.detect()
        self.remote.refresh()
        self.conversations.refresh()
        if history.problem:  # the file was damaged and replaced, or cannot be written
            self.history_banner.show_message(history.problem, "error")
        if history.recovered:
            self.banner.show_message(
                f"Hearth was closed while writing {'an answer' if history.recovered == 1 else 'answers'}; "
                "what had been written is kept and marked as cut short.", "info")
        if self.policy.error:
            self.policy_banner.show_message(
                "Hearth runs in its most restrictive mode (offline, no downloads, no local API, no model) "
                f"because your organisation's policy file could not be used: {self.policy.error.rstrip('.')}. "
                "Ask your administrator to fix it.", "error")
            self.policy_banner.close_button.setVisible(False)  # it holds until the file is fixed
        self.show_page("Chat")

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        self.policy_banner = ErrorBanner()  # the refused policy file's, which must not be replaced
        # Said once at start, and not to be pushed out by the next problem (a model that fails to load).
        self.history_banner = ErrorBanner()
        self.banner = ErrorBanner()
        self.banner.action_triggered.connect(self._banner_action)
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigationList")
        self.navigation.setAccessibleName("Pages")
        self.navigation.addItems(PAGES)
        metrics = self.navigation.fontMetrics()
        for i in range(self.navigation.count()):
            # Row height from the font, so the list grows with the system font size.
            self.navigation.item(i).setSizeHint(QSize(0, metrics.height() * 2 + 4))
        self.navigation.setFixedWidth(max(metrics.horizontalAdvance(page) for page in PAGES) + 56)
        self.navigation.currentRowChanged.connect(self._navigated)
        nav = QWidget()
        nav.setObjectName("navigation")
        QVBoxLayout(nav).addWidget(self.navigation)

        self.chat_page = ChatPage()
        # Short names for the parts the window wires (and tests reach).
        self.conversation_list = self.chat_page.conversation_list
        self.transcript = self.chat_page.transcript
        self.composer = self.chat_page.composer
        self.switcher = self.chat_page.switcher
        self.switcher.set_policy(self.policy)
        self.transcript.set_reasoning_display(self.reasoning_display())
        self.instructions_button = self.chat_page.instructions_button
        self.export_button = self.chat_page.export_button
        self.composer.effort.set_effort(self.settings.reasoning_effort)
        # The default last put in the chat's selector: Settings -> OK sets it again only when the
        # default itself changed, never over what the person picked for this chat.
        self._default_effort = self.settings.reasoning_effort

        self.first_launch = FirstLaunch()
        self.first_launch.set_download_refusal(self.policy.lock_reason("downloads"))
        self.models_panel = ModelsPanel()
        self.models_panel.policy = self.policy
        self.hardware_panel = HardwarePanel()
        self.documents_panel = DocumentsPanel()
        self.pages = QStackedWidget()
        for page in (self.chat_page, self.first_launch, self.documents_panel, self.models_panel, self.hardware_panel):
            self.pages.addWidget(page)
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        column_layout.addWidget(self.policy_banner)
        column_layout.addWidget(self.history_banner)
        column_layout.addWidget(self.banner)
        column_layout.addWidget(self.pages, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(nav)
        layout.addWidget(column, 1)
        self.setCentralWidget(central)
        self.status = StatusBar()
        self.setStatusBar(self.status)

        self.chat = ChatController(self.history, self.transcript, self.composer, self.settings,
                                   stop_fn=self._stop_generation, parent=self)
        self.chat.busy_changed.connect(self._busy_changed)
        self.chat.stream.turn_finished.connect(self.status.show_finished)
        self.chat.problem.connect(self.show_problem)
        self.chat.notice.connect(self.show_info)
        self.conversation_list.new_requested.connect(self.new_chat)

        self.models = ModelsController(self.store, self.models_panel, self.hardware_panel, self.first_launch,
                                       self, self.settings, parent=self)
        self.models.use_requested.connect(self.use_model)
        self.models.installed_changed.connect(self._installed_changed)
        self.models.problem.connect(self.show_detailed_problem)
        self.models.info.connect(self.show_info)
        self.models.withdraw.connect(self.banner.withdraw)
        self.first_launch.browse_requested.connect(lambda: self.show_page("Models"))
        # Downloads and imports show their progress on the Models page: go there.
        self.models.job_started.connect(self._job_started)
        self.switcher.model_chosen.connect(self.use_model)
        self.switcher.cancel_requested.connect(self.cancel_load)
        self.switcher.manage_requested.connect(lambda: self.show_page("Models"))
        # The organisation's servers and the person's: their models in the same menu.
        self.remote = RemoteController(self.settings, self.policy, parent=self)
        self.remote.changed.connect(self.switcher.set_servers)
        self.switcher.servers_requested.connect(lambda: self.remote.open_dialog(self))

        self.documents = DocumentsController(self.documents_panel, self.settings, self.policy,
                                             lambda question, detail: self.models.confirm(question, detail),
                                             self, self._library_dir, parent=self)
        self.documents.problem.connect(self.show_problem)
        self.documents.note.connect(self.status.show_note)
        # The chat's "Search my documents" and "Run Python": what the policy, the library and the
        # sandbox allow, kept per chat; each turn gets the chat's toolbox from it.
        self.tools = ToolsController(self.composer.tools, self.transcript, self.history, self.policy,
                                     self.documents, parent=self)
        self.tools.problem.connect(self.show_problem)
        # The Hardware page says what the model's Python may do here: the switch's probe, shared.
        self.tools.sandbox_known.connect(self.hardware_panel.set_sandbox)
        self.tools.sandbox_unavailable.connect(self.hardware_panel.set_sandbox_unavailable)
        self.hardware_panel.refresh_requested.connect(self.tools.check_sandbox)
        self.chat.tools = self.tools
        # The list of chats, and renaming, deleting, exporting a chat and its instructions.
        self.conversations = ConversationsController(self.history, self.chat, self.chat_page, self.settings, self.tools,
                                                     lambda question, detail: self.models.confirm(question, detail),
                                                     self.reasoning_display, self, parent=self)
        self.conversations.problem.connect(self.show_problem)
        self.conversations.note.connect(self.status.show_note)
        self.conversations.context_used.connect(self.status.show_chat)
        self.chat.conversations_changed.connect(self.conversations.refresh)
        self.chat.current_changed.connect(self.conversations.show_current)
        self.chat.current_changed.connect(self.tools.set_conversation)

    def _connect_worker(self, worker: InferenceWorker) -> None:
        self.loader = ModelLoader(worker, self.store, self.models, self.policy, self.settings, self.remote.servers,
                                  self)
        self.remote.models_found.connect(self.loader.load_remote_first)
        self.loader.changed.connect(self._model_state_changed)
        self.loader.progress.connect(self._load_progress)
        self.loader.loaded_model.connect(self._model_loaded)
        self.loader.notice.connect(self.status.show_note)
        self.loader.cancelled.connect(self._load_cancelled)
        self.loader.problem.connect(self.show_problem)
        # GUI -> worker: queued, since the worker lives in its own thread.
        self.chat.request_generate.connect(worker.generate)
        # Worker -> GUI: bound methods of GUI-thread objects only (see workers/inference.py).
        worker.events.connect(self.chat.stream.on_events)
        worker.generation_failed.connect(self.chat.stream.on_generation_failed)
        worker.live_speed.connect(self.status.show_live_speed)

    def _menus(self) -> None:
        self.menu_bar = MenuBar(PAGES, self.switcher.menu, self.local_api.action, self.settings, self.policy, self)
        self.setMenuBar(self.menu_bar)
        self.menu_bar.new_chat_requested.connect(self.new_chat)
        self.menu_bar.export_requested.connect(self.conversations.export_current)
        self.conversations.exportable.connect(self.menu_bar.export_action.setEnabled)
        self.menu_bar.settings_saved.connect(self.apply_settings)
        self.menu_bar.quit_requested.connect(self.close)
        self.menu_bar.page_requested.connect(self.show_page)
        self.menu_bar.theme_toggled.connect(self.toggle_theme)
        self.menu_bar.egress_log_requested.connect(self.open_egress_log)
        self.menu_bar.egress_log_action.setEnabled(self.egress is not None)
        self.search_shortcut = QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search)
        # Esc stops an answer (or else the editing of a message) wherever the focus is in the window.
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.chat.escape)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)

    # -- pages -----------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.navigation.setCurrentRow(PAGES.index(name))
        self._navigated(PAGES.index(name))

    def _navigated(self, row: int) -> None:
        page = PAGES[row] if 0 <= row < len(PAGES) else "Chat"
        if page == "Chat":
            # With no model installed, the chat page is the guided first-launch screen.
            empty = not self.switcher.installed() and self.loaded is None and self.loading is None
            self.pages.setCurrentWidget(self.first_launch if empty else self.chat_page)
        elif page == "Documents":
            self.pages.setCurrentWidget(self.documents_panel)
        elif page == "Models":
            self.models.refresh()  # the disk may have changed: another window or the terminal
            self.pages.setCurrentWidget(self.models_panel)
        else:
            self.tools.check_sandbox()
            self.pages.setCurrentWidget(self.hardware_panel)

    def current_page(self) -> QWidget:
        return self.pages.currentWidget()

    # -- conversations ---------------------------------------------------------------------
    @Slot()
    def new_chat(self) -> None:
        self.show_page("Chat")
        self.chat.new_conversation()
        self.conversations.refresh()

    def focus_search(self) -> None:
        self.show_page("Chat")
        self.conversation_list.focus_search()

    # -- models ----------------------------------------------------------------------------
    @property
    def loaded(self) -> LoadedModel | None:
        return self.loader.loaded

    @property
    def loading(self) -> str | None:
        return self.loader.loading

    @Slot(str)
    def use_model(self, model_id: str) -> None:
        if self.chat.busy:
            self.chat.stream.stop()
        self.loader.use(model_id)

    @Slot()
    def cancel_load(self) -> None:
        self.loader.cancel()

    @Slot(str)
    def _model_loaded(self, model_id: str) -> None:
        self.chat.model_id = model_id
        # The model's built-in tools run beside a model on this computer only.
        self.tools.set_model_remote(self.loaded is not None and self.loaded.device == REMOTE_DEVICE)

    @Slot(int)
    def _load_progress(self, percent: int) -> None:
        self.switcher.set_progress(percent)
        self.status.set_loading(self.loading, percent)

    @Slot()
    def _load_cancelled(self) -> None:
        self.status.show_note("Loading cancelled")  # the person's own choice: no banner

    @Slot(list)
    def _installed_changed(self, installed: list) -> None:
        current = self.loaded.model_id if self.loaded else None
        self.switcher.set_models(installed, current)
        if self.navigation.currentRow() == 0:
            self._navigated(0)

    def _model_state_changed(self) -> None:
        current = self.loaded.model_id if self.loaded else None
        self.switcher.set_models(self.models.installed(), current)
        self.switcher.set_loading(self.loading)
        self.models.set_current(current)
        if self.loading:
            self.status.set_loading(self.loading)
        elif self.loaded:
            # A server's model is named "MODEL on SERVER" already: no device to add.
            device = "" if self.loaded.device == REMOTE_DEVICE else self.loaded.device
            self.status.set_model(self.loaded.model_id, device, self.loaded.context_length)
        else:
            self.status.set_model(None)
        ready = self.loaded is not None
        self.local_api.set_model_ready(ready)
        reason = "" if ready else ("The model is still loading." if self.loading else "Choose a model first.")
        self.composer.set_ready(ready, reason)
        if self.navigation.currentRow() == 0:
            self._navigated(0)

    def _stop_generation(self) -> None:
        self.inference.worker.stop()
        answer = self.chat.stream.answer
        if answer is not None:  # a Python call running now ends at once, not at its next check
            self.tools.stop(answer.conversation_id)

    @Slot(bool)
    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self.status.answer_started()

    # -- policy and egress -----------------------------------------------------------------
    def reasoning_display(self) -> str:
        return self.policy.effective_reasoning_display(self.settings.reasoning_display)

    def _offline(self) -> bool:
        return self.policy.effective_offline(self.settings.offline or offline_from_env())

    @Slot()
    def _egress_changed(self) -> None:
        self.status.set_egress(self.egress.summary(), self.egress.explanation())

    def open_egress_log(self) -> None:
        if self.egress is None:
            return
        from desktop.widgets.egress_log_dialog import EgressLogDialog

        EgressLogDialog(self.egress, self).exec()

    # -- messages to the person --------------------------------------------------------------
    @Slot(str)
    @Slot(str, object)
    @Slot(str, object, str)
    def show_problem(self, sentence: str, action: tuple[str, str] | None = None, details: str = "") -> None:
        self.banner.show_message(sentence, "error", action, details)

    @Slot(str, str)
    def show_detailed_problem(self, sentence: str, details: str) -> None:
        self.banner.show_message(sentence, "error", None, details)

    @Slot(str)
    def show_info(self, sentence: str) -> None:
        self.banner.show_message(sentence, "info")

    @Slot(str)
    def _job_started(self, _model: str) -> None:
        if self.current_page() is self.first_launch:
            self.show_page("Models")

    def _banner_action(self, key: str) -> None:
        if key == "models":
            self.show_page("Models")
        elif key == "load-anyway":
            self.loader.load_anyway()

    # -- settings and theme ----------------------------------------------------------------
    def apply_settings(self) -> None:
        theme.apply_theme(QApplication.instance(), self.settings.theme)
        self.menu_bar.dark_action.setChecked(self.settings.theme == "dark")
        if self.settings.reasoning_effort != self._default_effort:
            self._default_effort = self.settings.reasoning_effort
            self.composer.effort.set_effort(self.settings.reasoning_effort)
        self.transcript.set_reasoning_display(self.reasoning_display())
        self.store.offline = self._offline()
        if not self._offline():
            self.banner.withdraw("Offline mode is on")  # a refusal that no longer holds
        if self.egress is not None and (refusal := self.egress.set_offline(self._offline())):
            self.show_problem(refusal)
        self.remote.refresh()  # offline mode may have changed which servers may be asked
        self.models.use_models_folder(self.policy.effective_models_dir(self.settings.models_path()
                                                                       or default_models_dir()))

    def toggle_theme(self) -> None:
        self.settings.theme = "dark" if self.settings.theme == "light" else "light"
        self.apply_settings()

    # -- closing ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shut_down and self.models.jobs.any_running() and not self.models.confirm(
                "Close Hearth while models are being downloaded or copied?",
                "Downloads are paused and continue the next time you press Resume; copies are stopped."):
            event.ignore()
            return
        if not self._shut_down and self.chat.busy and not self.models.confirm(
                "Close Hearth while an answer is being written?",
                "What is written so far is kept, marked as cut short; Regenerate writes it again."):
            event.ignore()
            return
        self.settings.window_geometry = self.saveGeometry()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stops the answer (its text is saved as cut short), pauses downloads, ends the threads."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.chat.busy:
            self.chat.stream.stop_for_closing()
        self.models.shutdown()
        self.documents.shutdown()
        self.inference.shutdown()
        self.tools.shutdown()  # after the answer's thread: a turn may still be using them
        # The worker's last events (its Finished) are queued to us; deliver them so the answer is
        # saved as stopped, and mark it so ourselves if the worker could not finish in time.
        QApplication.processEvents()
        self.chat.stream.abandon()
        self.settings.sync()
