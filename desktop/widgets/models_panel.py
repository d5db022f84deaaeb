"""The Models page: every catalogue model as a `ModelCard`, plus "Import from folder…". It only
displays and asks; the window's models controller runs jobs and confirms deletions."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from core.store.model_store import ModelInfo
from core.store.progress import Progress
from core.system.hardware import FitPlan
from core.system.policy import NO_POLICY, Policy
from desktop.widgets.model_card import ModelCard
from desktop.widgets.page import page_column, page_header, scrolling


class ModelsPanel(QWidget):
    action = Signal(str, str)  # (action, model id), see ModelCard
    import_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("modelsPanel")
        self.folder_label = QLabel()
        self.folder_label.setObjectName("hint")
        self.folder_label.setWordWrap(True)
        self.import_button = QPushButton("Import from folder…")
        self.import_button.setAccessibleName("Import a model from a folder")
        self.import_button.setToolTip("Install a model you copied from another computer or a USB drive")
        self.import_button.clicked.connect(self.import_requested)
        header = page_header("Models", self.import_button)
        self._cards_layout = QVBoxLayout()
        self._cards_layout.setSpacing(12)
        scroll = scrolling(self._cards_layout)
        layout = page_column(self)
        layout.addLayout(header)
        layout.addWidget(self.folder_label)
        layout.addWidget(scroll, 1)
        self.cards: dict[str, ModelCard] = {}
        self.policy: Policy = NO_POLICY  # set by the window before the first `set_models`

    def set_models(self, infos: list[ModelInfo], plans: dict[str, FitPlan], jobs: dict[str, str],
                   current: str | None, models_dir: str = "") -> None:
        self.folder_label.setText(f"Models are kept in {models_dir}" if models_dir else "")
        for info in infos:
            card = self.cards.get(info.id)
            if card is None:
                card = ModelCard(info, policy=self.policy)
                card.action.connect(self.action)
                self.cards[info.id] = card
                self._cards_layout.addWidget(card)
            card.update_info(info, plans.get(info.id), jobs.get(info.id), info.id == current)

    def show_progress(self, progress: Progress) -> None:
        if card := self.cards.get(progress.model_id):
            card.show_progress(progress)
