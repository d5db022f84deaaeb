"""Every persisted preference of the desktop app, as typed properties over one QSettings.

The rest of the app never touches QSettings keys directly: it reads and writes `Settings`
attributes, so a key's name, type and default live in exactly one place.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from core.chat.generate import GenerationSettings
from core.engine.sampling import SamplingParams
from core.system.policy import REASONING_DISPLAYS

THEMES = ("light", "dark")
EFFORTS = ("low", "medium", "high")


def user_data_dir() -> Path:
    """Where Hearth keeps its history database (the platform's per-user app data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base) / "Hearth"


class _Key:
    """A typed setting: reads fall back to `default` when the stored value is missing or unusable."""

    def __init__(self, name: str, default, kind: type, choices: tuple | None = None):
        self.name, self.default, self.kind, self.choices = name, default, kind, choices

    def __get__(self, obj: Settings | None, owner=None):
        if obj is None:
            return self
        raw = obj.qsettings.value(self.name)
        if raw is None:
            return self.default
        try:
            value = _coerce(raw, self.kind)
        except (TypeError, ValueError):
            return self.default
        if self.choices and value not in self.choices:
            return self.default
        return value

    def __set__(self, obj: Settings, value) -> None:
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, not {value!r}")
        obj.qsettings.setValue(self.name, value)


def _coerce(raw, kind: type):
    # QSettings' INI and registry backends hand back strings for everything; parse them here.
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if kind is QByteArray:
        return raw if isinstance(raw, QByteArray) else QByteArray(raw)
    return kind(raw)


class Settings:
    """Hearth's preferences. `Settings()` uses the platform store; tests pass an INI path."""

    models_dir = _Key("models/directory", "", str)  # "" = core's default folder
    offline = _Key("models/offline", False, bool)
    current_model = _Key("models/current", "", str)  # the model to load at start: catalogue id, or "MODEL on SERVER"
    theme = _Key("appearance/theme", "light", str, THEMES)
    reasoning_effort = _Key("chat/reasoning_effort", "medium", str, EFFORTS)
    # How the model's reasoning is shown: "shown" (unfolded), "collapsed" or "hidden". The
    # organisation's policy may override it (`Policy.effective_reasoning_display`).
    reasoning_display = _Key("chat/reasoning_display", "collapsed", str, REASONING_DISPLAYS)
    temperature = _Key("chat/temperature", 1.0, float)
    top_p = _Key("chat/top_p", 1.0, float)
    max_new_tokens = _Key("chat/max_new_tokens", 4096, int)
    # Tokens the model may think before it must answer; 0: no limit.
    reasoning_budget = _Key("chat/reasoning_budget", 0, int)
    # The local API's port. Whether it runs is not saved: serving other programs is opted into
    # again each session, so a forgotten toggle never leaves a port open.
    api_port = _Key("api/port", 8080, int)
    # The remote servers the person added (desktop/remote_servers.py): a JSON list of
    # {"url": ..., "api": "chat" | "responses"}. Their API keys are in the keyring, never here.
    remote_servers = _Key("remote/servers", "[]", str)
    window_geometry = _Key("window/geometry", QByteArray(), QByteArray)
    # Where each kind of file dialog opens next (desktop/file_dialogs.py); "" = the home folder.
    import_folder = _Key("folders/import", "", str)  # the folder holding the last model imported
    model_export_folder = _Key("folders/model_export", "", str)  # where the last model was exported to
    chat_export_folder = _Key("folders/chat_export", "", str)  # where the last chat was saved
    documents_folder = _Key("folders/documents", "", str)  # the folder holding the last library folder added

    def __init__(self, path: str | Path | None = None):
        if path is None:
            self.qsettings = QSettings("Hearth", "Hearth")
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    def models_path(self) -> Path | None:
        """The chosen models folder, or None for the core's default."""
        return Path(self.models_dir).expanduser() if self.models_dir else None

    def generation(self, reasoning_effort: str) -> GenerationSettings:
        """The answer's knobs as the core takes them (its one settings type for every front end)."""
        return GenerationSettings(SamplingParams(temperature=self.temperature, top_p=self.top_p),
                                  max_new_tokens=self.max_new_tokens, reasoning_effort=reasoning_effort,
                                  reasoning_budget=self.reasoning_budget if self.reasoning_budget > 0 else None)

    def sync(self) -> None:
        self.qsettings.sync()
