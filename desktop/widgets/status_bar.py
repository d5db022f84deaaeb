"""The bottom line: which model, on which device, how fast the answer comes (live while it
streams, then the exact figure), how much of the model's context the conversation uses, the
local API's address when it runs, and the egress guard's count ("0 blocked attempts since
09:12"), which opens the list of blocked attempts when clicked."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton

from core.chat.events import Finished

NOTE_MS = 6000


def device_text(device: str) -> str:
    if device.startswith("cuda"):
        return "graphics card"
    return "processor" if device == "cpu" else device


class StatusBar(QStatusBar):
    egress_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.setAccessibleName("Status")
        # Labels keep their text as their accessible name (what a screen reader says); the
        # description tells what the value is.
        self.model_label = QLabel("No model loaded")
        self.model_label.setAccessibleDescription("Model")
        self.device_label = QLabel("")
        self.device_label.setAccessibleDescription("Device")
        self.speed_label = QLabel("")
        self.speed_label.setAccessibleDescription("Speed of the last answer")
        self.context_label = QLabel("")
        self.context_label.setAccessibleDescription("Context used")
        self.api_label = QLabel("")
        self.api_label.setAccessibleDescription("Local API for other apps")
        self.api_label.setVisible(False)
        self.egress_button = QToolButton()
        self.egress_button.setObjectName("egressButton")
        self.egress_button.setAutoRaise(True)
        self.egress_button.setAccessibleDescription("Network connections refused by offline mode; click for the list")
        self.egress_button.clicked.connect(self.egress_clicked)
        self.egress_button.setVisible(False)
        for label in (self.model_label, self.device_label, self.speed_label, self.context_label, self.api_label):
            self.addPermanentWidget(label)
        self.addPermanentWidget(self.egress_button)
        self._context_length = 0

    def set_model(self, model_id: str | None, device: str = "", context_length: int = 0) -> None:
        self.model_label.setText(model_id or "No model loaded")
        self.device_label.setText(f"on the {device_text(device)}" if model_id and device else "")
        self._context_length = context_length
        self.speed_label.setText("")
        self.context_label.setText("")

    def set_loading(self, model_id: str, percent: int | None = None) -> None:
        self.model_label.setText(f"Loading {model_id}…" + (f" {percent}%" if percent is not None else ""))
        self.device_label.setText("")

    def show_note(self, text: str) -> None:
        """A passing remark ("Loading cancelled") at the left, gone after a few seconds."""
        self.showMessage(text, NOTE_MS)

    def answer_started(self) -> None:
        self.speed_label.setText("")
        self.speed_label.setAccessibleDescription("Speed of the answer being written")

    def show_live_speed(self, tokens_per_second: float) -> None:
        self.speed_label.setText(f"{tokens_per_second:.1f} tokens/s")

    def set_api(self, text: str) -> None:
        self.api_label.setText(text)
        self.api_label.setVisible(bool(text))

    def set_egress(self, summary: str, explanation: str) -> None:
        self.egress_button.setText(summary)
        self.egress_button.setToolTip(explanation)
        self.egress_button.setAccessibleName(summary)
        self.egress_button.setVisible(True)

    def show_finished(self, finished: Finished) -> None:
        self.speed_label.setAccessibleDescription("Speed of the last answer")
        if finished.decode_tokens_per_second > 0:
            self.speed_label.setText(f"{finished.decode_tokens_per_second:.1f} tokens/s")
        self.show_context(finished.prompt_tokens + finished.generated_tokens)

    def show_chat(self, used: int | None) -> None:
        """Another chat is shown: its context use as its last answer left it (None: unknown, or a
        new chat), and no speed, which belonged to the previous chat's answer."""
        self.speed_label.setText("")
        if used is None:
            self.context_label.setText("")
        else:
            self.show_context(used)

    def show_context(self, used: int) -> None:
        if self._context_length:
            percent = 100 * used / self._context_length
            self.context_label.setText(f"Context: {used:,} of {self._context_length:,} tokens ({percent:.0f}%)")
        else:
            self.context_label.setText(f"Context: {used:,} tokens")
