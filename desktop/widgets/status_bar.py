"""The bottom line: which model, on which device, how fast the last answer came, and how much
of the model's context the conversation uses."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from core.chat_events import Finished


def device_text(device: str) -> str:
    if device.startswith("cuda"):
        return "graphics card"
    return "processor" if device == "cpu" else device


class StatusBar(QStatusBar):
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
        for label in (self.model_label, self.device_label, self.speed_label, self.context_label):
            self.addPermanentWidget(label)
        self._context_length = 0

    def set_model(self, model_id: str | None, device: str = "", context_length: int = 0) -> None:
        self.model_label.setText(model_id or "No model loaded")
        self.device_label.setText(f"on the {device_text(device)}" if model_id and device else "")
        self._context_length = context_length
        self.speed_label.setText("")
        self.context_label.setText("")

    def set_loading(self, model_id: str) -> None:
        self.model_label.setText(f"Loading {model_id}…")
        self.device_label.setText("")

    def show_finished(self, finished: Finished) -> None:
        if finished.decode_tokens_per_second > 0:
            self.speed_label.setText(f"{finished.decode_tokens_per_second:.1f} tokens/s")
        used = finished.prompt_tokens + finished.generated_tokens
        if self._context_length:
            percent = 100 * used / self._context_length
            self.context_label.setText(f"Context: {used:,} of {self._context_length:,} tokens ({percent:.0f}%)")
        else:
            self.context_label.setText(f"Context: {used:,} tokens")
