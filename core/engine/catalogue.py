"""The built-in model catalogue: which models Hearth offers, where they live on the hub,
and which of their files make up the one format Hearth fetches.

`CATALOGUE` maps a catalogue id (`gpt-oss-20b`, `gpt-oss-120b`) to a frozen `CatalogueEntry`;
`entry(model_id)` looks one up and raises `ModelNotFound` with a readable sentence otherwise.
An entry's shape (`entry.config`) is core.engine.config's preset of the same id, never a copy.
`is_root_format_file(path)` decides which repository files a download fetches: the Hugging Face
root format only. The repositories also hold `original/` and `metal/` copies of the same weights;
fetching them would double or triple the download, so anything inside a folder is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.engine.config import PRESETS, SHAPE_FIELDS, ModelConfig, config_from_dict
from core.errors import HearthError, ModelNotFound


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    repo: str
    # Says what the model is, not how much memory it needs: that figure is core.engine.memory_plan's,
    # through core.system.hardware's fit planner, so the window states one number everywhere.
    description: str
    # Bytes of the root-format files; the hub's own numbers replace it once a download starts.
    download_bytes: int

    @property
    def config(self) -> ModelConfig:
        """The model's shape: the published config.json, as core.engine.config's presets hold it."""
        return PRESETS[self.id]


CATALOGUE: dict[str, CatalogueEntry] = {
    e.id: e
    for e in (
        CatalogueEntry(
            id="gpt-oss-20b",
            repo="openai/gpt-oss-20b",
            description="The smaller gpt-oss: quick on a graphics card, and it also runs, slowly, on the processor.",
            download_bytes=13_762_000_000,
        ),
        CatalogueEntry(
            id="gpt-oss-120b",
            repo="openai/gpt-oss-120b",
            description="The larger gpt-oss: for a graphics card with a lot of memory.",
            download_bytes=65_290_000_000,
        ),
    )
}


def entry(model_id: str) -> CatalogueEntry:
    try:
        return CATALOGUE[model_id]
    except KeyError:
        known = ", ".join(CATALOGUE)
        raise ModelNotFound(f"Hearth does not know a model called “{model_id}”. Known: {known}.") from None


def entry_for_config(config: dict | ModelConfig) -> CatalogueEntry | None:
    """The catalogue model a config.json (either published format) or a ModelConfig describes,
    if any: every field of its shape must match (the 20b and 120b differ in layers and experts)."""
    if not isinstance(config, ModelConfig):
        try:
            config = config_from_dict(config)
        except HearthError:
            return None
    shape = tuple(getattr(config, name) for name in SHAPE_FIELDS)
    return next((e for e in CATALOGUE.values() if tuple(getattr(e.config, n) for n in SHAPE_FIELDS) == shape), None)


def is_root_format_file(path: str) -> bool:
    """True for the repository files a download fetches: top-level files only, no git metadata."""
    return "/" not in path and not path.startswith(".")
