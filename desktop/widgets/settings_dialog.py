"""Settings: models folder, offline mode, theme, default reasoning effort, sampling defaults."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from desktop.settings import EFFORTS, THEMES, Settings


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, default_models_dir: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Hearth settings")
        self.setAccessibleName("Settings")
        self.settings = settings
        self.models_dir = QLineEdit(settings.models_dir)
        self.models_dir.setPlaceholderText(default_models_dir)
        self.models_dir.setAccessibleName("Models folder")
        browse = QPushButton("Choose…")
        browse.setAccessibleName("Choose the models folder")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.models_dir, 1)
        folder_row.addWidget(browse)
        self.offline = QCheckBox("Never connect to the internet (offline mode)")
        self.offline.setAccessibleName("Offline mode")
        self.offline.setChecked(settings.offline)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for theme in THEMES:
            self.theme.addItem(theme.capitalize(), theme)
        self.theme.setCurrentIndex(THEMES.index(settings.theme))
        self.effort = QComboBox()
        self.effort.setAccessibleName("Default reasoning effort")
        for effort in EFFORTS:
            self.effort.addItem(effort.capitalize(), effort)
        self.effort.setCurrentIndex(EFFORTS.index(settings.reasoning_effort))
        self.temperature = QDoubleSpinBox()
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(settings.temperature)
        self.temperature.setToolTip("0 always picks the likeliest word; higher is more varied. gpt-oss is tuned for 1.")
        self.top_p = QDoubleSpinBox()
        self.top_p.setAccessibleName("Top-p")
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(settings.top_p)
        self.max_tokens = QSpinBox()
        self.max_tokens.setAccessibleName("Longest answer in tokens")
        self.max_tokens.setRange(16, 131072)
        self.max_tokens.setValue(settings.max_new_tokens)
        form = QFormLayout(self)
        form.addRow("Models folder:", folder_row)
        form.addRow("", self.offline)
        form.addRow("Theme:", self.theme)
        form.addRow("Reasoning effort for new chats:", self.effort)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Top-p:", self.top_p)
        form.addRow("Longest answer (tokens):", self.max_tokens)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose where models are kept", self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)

    def save(self) -> None:
        s = self.settings
        s.models_dir = self.models_dir.text().strip()
        s.offline = self.offline.isChecked()
        s.theme = self.theme.currentData()
        s.reasoning_effort = self.effort.currentData()
        s.temperature = self.temperature.value()
        s.top_p = self.top_p.value()
        s.max_new_tokens = self.max_tokens.value()
        s.sync()
