"""The Hardware page: graphics cards and their memory, processor, RAM, disk, for each model the
fit planner's verdict with the numbers behind it, and what the model's Run Python may do here (the
sandbox probe's answer, in words for a person; the technical layers in its tooltip)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.sandbox.isolation import Isolation
from core.system.hardware import FitPlan, Hardware
from desktop.widgets.format import FIT_BADGES, size_text
from desktop.widgets.page import page_column, page_header, scrolling, text_label

# Isolation.files -> what the code can do to the person's files
_FILES = {
    "kept": "no network, and no access to your files outside its scratch folder.",
    "read": "no network, and it can change files only in its scratch folder (it can still read your files).",
    "open": "no network, but it can still read and change your files: this version of Linux cannot fence "
            "them off (it lacks Landlock).",
}
CHECKING_PYTHON = "Checking what keeps the model's Python in its sandbox here…"


def python_sandbox_text(isolation: Isolation) -> str:
    """What the model's Python may do on this computer, for a person who does not program."""
    text = "Sandboxed — " + _FILES[isolation.files]
    if not isolation.tested:
        text += " This kind of sandbox has not been tested on this system yet."
    return text


def python_unavailable_text(reason: str) -> str:
    """Why the model cannot run Python here; `reason` is the probe's sentence."""
    return ("Unavailable — Hearth could not cut the model's Python off from the network here, so it never runs "
            f"it. {reason}")


def _label(text: str, name: str = "") -> QLabel:
    return text_label(text, description=name)  # `name`: what a screen reader says the row is


class HardwarePanel(QWidget):
    refresh_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("hardwarePanel")
        self.refresh_button = QPushButton("Check again")
        self.refresh_button.setAccessibleName("Check the hardware again")
        self.refresh_button.clicked.connect(self.refresh_requested)
        header = page_header("This computer", self.refresh_button)
        self.machine = QGroupBox("Hardware")
        self.machine_form = QFormLayout(self.machine)
        self.fits = QGroupBox("Which model fits")
        self.fits_layout = QVBoxLayout(self.fits)
        self.tools = QGroupBox("The model's tools")
        self.python = _label(CHECKING_PYTHON, "Run Python")
        QFormLayout(self.tools).addRow("Run Python:", self.python)
        scroll = scrolling(self.machine, self.tools, self.fits)
        layout = page_column(self)
        layout.addLayout(header)
        layout.addWidget(scroll, 1)
        self.status = _label("Looking at this computer…")
        self.machine_form.addRow(self.status)

    def set_hardware(self, hardware: Hardware, plans: dict[str, FitPlan]) -> None:
        _clear(self.machine_form)
        _clear(self.fits_layout)
        form = self.machine_form
        if hardware.gpus:
            for gpu in hardware.gpus:
                form.addRow(f"Graphics card {gpu.index + 1}:", _label(
                    f"{gpu.name}: {size_text(gpu.total_bytes)} of video memory, {size_text(gpu.free_bytes)} free"
                    + (f" (driver {gpu.driver})" if gpu.driver else ""), "Graphics card"))
        else:
            form.addRow("Graphics card:", _label("No NVIDIA graphics card found: models run on the processor.",
                                                 "Graphics card"))
        for note in hardware.notes:
            form.addRow("", _label(note))
        cpu = hardware.cpu
        features = ", ".join(cpu.flags) or "none of note"
        form.addRow("Processor:", _label(f"{cpu.name}, {cpu.physical_cores} cores ({cpu.logical_cores} threads); "
                                         f"features: {features}", "Processor"))
        if cpu.kernels:
            form.addRow("Processor path:", _label(cpu.kernels.removeprefix("Processor path: "), "Processor path"))
        form.addRow("Memory (RAM):", _label(f"{size_text(hardware.ram_total_bytes)} in all, "
                                            f"{size_text(hardware.ram_available_bytes)} free", "Memory"))
        disk = size_text(hardware.disk_free_bytes) + " free" if hardware.disk_free_bytes is not None else "unknown"
        form.addRow("Disk (models folder):", _label(disk, "Disk"))
        for model_id, plan in plans.items():
            badge, kind = FIT_BADGES.get(plan.verdict, (plan.verdict, "warn"))
            box = QGroupBox(model_id)
            box.setAccessibleName(f"{model_id}: {badge}")
            box_form = QFormLayout(box)
            verdict = _label(badge, "Verdict")
            verdict.setObjectName("fitBadge")
            verdict.setProperty("fit", kind)
            box_form.addRow("Verdict:", verdict)
            box_form.addRow("Why:", _label(plan.reason, "Why"))
            box_form.addRow("Weights:", _label(size_text(plan.weights_bytes)))
            box_form.addRow(f"Memory for {plan.context_length:,} tokens of context:",
                            _label(size_text(plan.kv_cache_bytes)))
            box_form.addRow("Runtime overhead:", _label(size_text(plan.overhead_bytes)))
            box_form.addRow("Needed in all:", _label(size_text(plan.needed_bytes)))
            box_form.addRow("Available:", _label(size_text(plan.available_bytes)))
            self.fits_layout.addWidget(box)

    def set_sandbox(self, isolation: Isolation) -> None:
        self.python.setText(python_sandbox_text(isolation))
        self.python.setToolTip(isolation.summary())

    def set_sandbox_unavailable(self, reason: str) -> None:
        self.python.setText(python_unavailable_text(reason))
        self.python.setToolTip("")


def _clear(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.widget():
            item.widget().deleteLater()
