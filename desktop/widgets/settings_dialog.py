"""Settings: models folder, offline mode, theme, default reasoning effort, how reasoning is
shown, the thinking limit, sampling defaults and the local API's port.

Settings the organisation's policy locks are shown with the policy's value, disabled, with the
policy's reason beside them and as their tooltip; saving leaves the person's own stored choice
of a locked setting alone, so it comes back if the administrator lifts the lock."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core.system.policy import NO_POLICY, REASONING_DISPLAYS, Policy
from desktop.file_dialogs import choose_folder
from desktop.settings import EFFORTS, THEMES, Settings
from desktop.widgets.effort_selector import LABELS as EFFORT_LABELS

REASONING_DISPLAY_NAMES = {"shown": "Shown", "collapsed": "Folded (click to read)", "hidden": "Hidden"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, default_models_dir: str, parent=None, policy: Policy = NO_POLICY):
        super().__init__(parent)
        self.setWindowTitle("Hearth settings")
        self.setAccessibleName("Settings")
        self.settings = settings
        self.policy = policy
        self.lock_labels: dict[str, QLabel] = {}
        self.models_dir = QLineEdit(settings.models_dir)
        self.models_dir.setPlaceholderText(default_models_dir)
        self.models_dir.setAccessibleName("Models folder")
        self.browse = QPushButton("Choose…")
        self.browse.setAccessibleName("Choose the models folder")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.models_dir, 1)
        folder_row.addWidget(self.browse)
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
        for effort in EFFORTS:  # the chat's own names for them, not a second set
            self.effort.addItem(EFFORT_LABELS[effort], effort)
        self.effort.setCurrentIndex(EFFORTS.index(settings.reasoning_effort))
        self.reasoning_display = QComboBox()
        self.reasoning_display.setAccessibleName("How the model's thinking is shown")
        for display in REASONING_DISPLAYS:
            self.reasoning_display.addItem(REASONING_DISPLAY_NAMES[display], display)
        self.reasoning_display.setCurrentIndex(REASONING_DISPLAYS.index(settings.reasoning_display))
        self.temperature = QDoubleSpinBox()
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(settings.temperature)
        self.temperature.setToolTip("How freely the model chooses its words (its temperature): 0 always picks the "
                                    "likeliest word; higher is more varied. gpt-oss is tuned for 1.")
        self.top_p = QDoubleSpinBox()
        self.top_p.setAccessibleName("Top-p")
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(settings.top_p)
        self.top_p.setToolTip("Which words the model may choose from (its top-p): 1 lets it consider every word; "
                              "0.9 leaves out the least likely tenth. gpt-oss is tuned for 1.")
        self.max_tokens = QSpinBox()
        self.max_tokens.setAccessibleName("Longest answer in tokens")
        self.max_tokens.setRange(16, 131072)
        self.max_tokens.setValue(settings.max_new_tokens)
        self.max_tokens.setSuffix(" tokens")
        self.max_tokens.setToolTip("A token is a piece of a word (about ¾ of an English word). The answer stops "
                                   "when it reaches this length.")
        self.thinking_limit = QSpinBox()
        self.thinking_limit.setAccessibleName("Longest thinking before answering, in tokens")
        self.thinking_limit.setRange(0, 131072)
        self.thinking_limit.setSingleStep(256)
        self.thinking_limit.setSpecialValueText("No limit")
        self.thinking_limit.setSuffix(" tokens")
        self.thinking_limit.setValue(settings.reasoning_budget)
        self.thinking_limit.setToolTip("When the model has thought this long it stops thinking and answers. On a "
                                       "processor, where thinking is slow, a limit such as 512 gets answers sooner.")
        self.api_port = QSpinBox()
        self.api_port.setAccessibleName("Port of the local API for other apps")
        self.api_port.setRange(1024, 65535)
        self.api_port.setValue(settings.api_port)
        self.api_port.setToolTip("Other programs on this computer reach the model at http://127.0.0.1:PORT/v1 "
                                 "while Tools → Local API for other apps is on.")
        form = QFormLayout(self)
        self.form = form
        form.addRow("Models folder:", folder_row)
        self._lock_row("models_dir", [self.models_dir, self.browse])
        form.addRow("", self.offline)
        self._lock_row("offline", [self.offline])
        self._lock_row("downloads", [])
        form.addRow("Theme:", self.theme)
        form.addRow("Thinking for new chats:", self.effort)
        form.addRow("The model's thinking:", self.reasoning_display)
        self._lock_row("reasoning_display", [self.reasoning_display])
        self._lock_row("allowed_models", [])
        form.addRow("Word variety (temperature):", self.temperature)
        form.addRow("Words to choose from (top-p):", self.top_p)
        form.addRow("Longest answer:", self.max_tokens)
        form.addRow("Longest thinking:", self.thinking_limit)
        form.addRow("Local API port:", self.api_port)
        self._lock_row("api_server", [self.api_port] if not policy.api_server_allowed else [])
        self._show_policy_values()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _lock_row(self, setting: str, controls: list[QWidget]) -> None:
        """Disables `controls` when the policy locks `setting`, and puts its reason below them."""
        reason = self.policy.lock_reason(setting)
        if reason is None:
            return
        for control in controls:
            control.setEnabled(False)
            control.setToolTip(reason)
        label = QLabel(reason)
        label.setObjectName("hint")  # the theme's quieter text: it explains the control above
        label.setWordWrap(True)
        label.setToolTip(reason)
        label.setAccessibleName(reason)
        self.lock_labels[setting] = label
        # Settings with no control of their own (downloads, allowed models) say what is locked.
        heading = {"downloads": "Downloads:", "allowed_models": "Models:"}.get(setting, "")
        if setting == "downloads":
            label.setText(f"Turned off. {reason}")
        elif setting == "allowed_models":
            allowed = ", ".join(sorted(self.policy.allowed_models or ())) or "none"
            label.setText(f"Only these may be used: {allowed}. {reason}")
        elif setting == "api_server":
            what = "Only for programs on this computer." if self.policy.api_server_allowed else "Turned off."
            label.setText(f"{what} {reason}")
        self.form.addRow(heading, label)

    def _show_policy_values(self) -> None:
        # A locked control shows what is in force, not the person's own (overridden) choice.
        p = self.policy
        if p.locked("models_dir"):
            self.models_dir.setText(str(p.models_dir))
        if p.locked("offline"):
            self.offline.setChecked(True)
        if p.locked("reasoning_display"):
            self.reasoning_display.setCurrentIndex(REASONING_DISPLAYS.index(p.reasoning_display))

    def _browse(self) -> None:
        # Opens at the models folder in use (the default one when the field is empty), or above it.
        current = self.models_dir.text().strip() or self.models_dir.placeholderText()
        folder = choose_folder(self, "Choose where models are kept", current)
        if folder:
            self.models_dir.setText(folder)

    def save(self) -> None:
        s, p = self.settings, self.policy
        if not p.locked("models_dir"):
            s.models_dir = self.models_dir.text().strip()
        if not p.locked("offline"):
            s.offline = self.offline.isChecked()
        if not p.locked("reasoning_display"):
            s.reasoning_display = self.reasoning_display.currentData()
        s.theme = self.theme.currentData()
        s.reasoning_effort = self.effort.currentData()
        s.temperature = self.temperature.value()
        s.top_p = self.top_p.value()
        s.max_new_tokens = self.max_tokens.value()
        s.reasoning_budget = self.thinking_limit.value()
        s.api_port = self.api_port.value()
        s.sync()
