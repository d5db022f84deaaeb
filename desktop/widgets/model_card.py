"""One model in the Models panel: what it is, whether it fits this machine (badge, with the
planner's reasoning as its tooltip), what is on disk, a progress bar while a job runs, and the
buttons that make sense for its state. What the organisation's policy forbids (using a model not
on its list, downloading) stays visible but greyed out, with the policy's reason as tooltip."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton

from core.store.model_store import ModelInfo
from core.store.progress import Progress
from core.system.hardware import FitPlan
from core.system.policy import NO_POLICY, Policy
from desktop.theme import scale_fonts
from desktop.widgets.format import FIT_BADGES, eta_text, size_text

PHASES = {"preparing": "Getting ready", "downloading": "Downloading", "retrying": "Retrying",
          "verifying": "Checking", "copying": "Copying", "paused": "Paused", "done": "Finishing"}


class ModelCard(QFrame):
    action = Signal(str, str)  # (action, model id): download, pause, cancel, use, export, delete, verify

    def __init__(self, info: ModelInfo, parent=None, policy: Policy = NO_POLICY):
        super().__init__(parent)
        self.policy = policy
        self.setObjectName("modelCard")
        self.model_id = info.id
        self.setAccessibleName(f"Model {info.id}")
        self.name = QLabel(info.id)
        self.name.setObjectName("modelName")
        self.badge = QLabel()
        self.badge.setObjectName("fitBadge")
        self.description = QLabel(info.description)
        self.description.setWordWrap(True)
        # The fit planner's figure, the same the Hardware page shows as "Needed in all".
        self.memory = QLabel()
        self.memory.setObjectName("modelMemory")
        self.memory.setWordWrap(True)
        self.memory.setVisible(False)
        self.state = QLabel()
        self.state.setObjectName("modelState")
        self.state.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName(f"Progress for {info.id}")
        self.bar.setRange(0, 1000)
        self.bar.setVisible(False)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.addStretch(1)
        for key, text in (("use", "Use"), ("download", "Download"), ("resume", "Resume"), ("pause", "Pause"),
                          ("cancel", "Cancel"), ("verify", "Check files"), ("export", "Export…"),
                          ("delete", "Delete…")):
            button = QPushButton(text)
            button.setAccessibleName(f"{text.rstrip('…')} {info.id}")
            button.clicked.connect(lambda _checked=False, k=key: self.action.emit(
                "download" if k == "resume" else k, self.model_id))
            self.buttons[key] = button
            row.addWidget(button)
        grid = QGridLayout(self)
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.badge, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.addWidget(self.description, 1, 0, 1, 2)
        grid.addWidget(self.memory, 2, 0, 1, 2)
        grid.addWidget(self.state, 3, 0, 1, 2)
        grid.addWidget(self.bar, 4, 0, 1, 2)
        grid.addLayout(row, 5, 0, 1, 2)
        self.info = info
        self.job: str | None = None
        self.current = False
        self.update_info(info, None, None, False)
        scale_fonts(self)  # cards are made after the window scaled its titles

    def update_info(self, info: ModelInfo, plan: FitPlan | None, job: str | None, current: bool) -> None:
        self.info, self.job, self.current = info, job, current
        if plan is not None:
            text, kind = FIT_BADGES.get(plan.verdict, (plan.verdict, "warn"))
            self.badge.setText(text)
            self.badge.setProperty("fit", kind)
            self.badge.setToolTip(plan.reason)
            self.badge.setAccessibleName(f"{text}. {plan.reason}")
            self.badge.style().unpolish(self.badge)
            self.badge.style().polish(self.badge)
        self.badge.setVisible(plan is not None)
        if plan is not None:
            self.memory.setText(memory_text(plan))
        self.memory.setVisible(plan is not None)
        installed, partial = info.status == "installed", info.status == "partial"
        allowed = self.policy.allows_model(info.id)
        if job:
            state = {"download": "Downloading…", "import": "Importing…", "export": "Exporting…",
                     "verify": "Checking files…"}.get(job, "Working…")
        elif installed:
            where = f" (in {info.path})" if info.in_place else ""
            state = f"Installed, {size_text(info.bytes_on_disk)}{where}" + (" — in use" if current else "")
            if not allowed:
                state += " — not allowed on this computer"
        elif info.status == "damaged":
            state = "Damaged: its list of files cannot be read. Delete it, then download or import it again."
        elif info.downloading:
            state = (f"Being downloaded by another Hearth window or terminal: {size_text(info.bytes_on_disk)} "
                     f"of {size_text(info.total_bytes)}")
        elif partial:
            state = f"Paused: {size_text(info.bytes_on_disk)} of {size_text(info.total_bytes)} downloaded"
        else:
            state = f"Not downloaded ({size_text(info.total_bytes)})"
        self.state.setText(state)
        self.bar.setVisible(bool(job) or partial)
        if partial and not job and info.total_bytes:
            self.bar.setValue(int(1000 * info.bytes_on_disk / info.total_bytes))
        visible = {
            "use": installed and not job and not current,
            "download": info.status == "available" and not job,
            # Another process holds the download's lock: resuming here would only fail.
            "resume": partial and not job and not info.downloading,
            "pause": job == "download",
            "cancel": job is not None or (partial and not info.downloading),
            "verify": installed and not job,
            "export": installed and not job,
            "delete": (installed or partial or info.status == "damaged") and not job and not info.downloading,
        }
        for key, button in self.buttons.items():
            button.setVisible(visible[key])
        self._apply_policy(allowed)

    def _apply_policy(self, allowed: bool) -> None:
        refusals = {"use": None if allowed else self.policy.lock_reason("allowed_models")}
        # The downloads lock also covers forced offline mode, and its reason says so.
        refusals["download"] = refusals["resume"] = self.policy.lock_reason("downloads")
        for key, reason in refusals.items():
            button = self.buttons[key]
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")

    def show_progress(self, progress: Progress) -> None:
        self.bar.setVisible(True)
        self.bar.setValue(int(1000 * progress.fraction))
        phase = PHASES.get(progress.phase, progress.phase.capitalize())
        parts = [f"{phase}: {size_text(progress.done)} of {size_text(progress.total)}"]
        if progress.bytes_per_second > 0 and progress.phase in ("downloading", "copying"):
            parts.append(f"{size_text(progress.bytes_per_second)}/s, {eta_text(progress.eta_seconds)}")
        if progress.message:
            parts.append(progress.message)
        self.state.setText(" — ".join(parts))


def memory_text(plan: FitPlan) -> str:
    """"Needs 14.1 GiB of memory on the graphics card, for 8,192 tokens of conversation."."""
    where = {"gpu": " on the graphics card", "cpu-slow": " on the processor"}.get(plan.verdict, "")
    return f"Needs {size_text(plan.needed_bytes)} of memory{where}, for {plan.context_length:,} tokens of conversation."
