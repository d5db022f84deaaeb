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

from core.engine.config import PRESETS, ModelConfig
from core.errors import ModelNotFound

GIB = 1024**3


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    repo: str
    description: str
    # Bytes of the root-format files; the hub's own numbers replace it once a download starts.
    download_bytes: int
    # The graphics-card class it needs, as cards are sold; `core.system.hardware.plan_fit` gives the
    # exact bytes for a context length.
    gpu_memory_gb: int

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
            description="The smaller gpt-oss: runs on a 16 GB graphics card, or slowly on the processor.",
            download_bytes=13_762_000_000,
            gpu_memory_gb=16,
        ),
        CatalogueEntry(
            id="gpt-oss-120b",
            repo="openai/gpt-oss-120b",
            description="The larger gpt-oss: needs a graphics card with 80 GB of memory.",
            download_bytes=65_290_000_000,
            gpu_memory_gb=80,
        ),
    )
}


def entry(model_id: str) -> CatalogueEntry:
    try:
        return CATALOGUE[model_id]
    except KeyError:
        known = ", ".join(CATALOGUE)
        raise ModelNotFound(f"Hearth does not know a model called “{model_id}”. Known: {known}.") from None


def entry_for_repo(repo: str) -> CatalogueEntry | None:
    return next((e for e in CATALOGUE.values() if e.repo == repo), None)


def entry_for_config(config: dict | ModelConfig) -> CatalogueEntry | None:
    """The catalogue model a config.json (either published format) or a ModelConfig describes,
    if any: the 20b and 120b differ only in layers and experts."""
    if isinstance(config, ModelConfig):
        layers, experts = config.num_hidden_layers, config.num_local_experts
    else:
        layers = config.get("num_hidden_layers")
        experts = config.get("num_local_experts", config.get("num_experts"))
    return next(
        (e for e in CATALOGUE.values()
         if e.config.num_hidden_layers == layers and e.config.num_local_experts == experts),
        None,
    )


def is_root_format_file(path: str) -> bool:
    """True for the repository files a download fetches: top-level files only, no git metadata."""
    return "/" not in path and not path.startswith(".")
