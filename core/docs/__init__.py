"""The document library: the person's own folders, indexed for the browser tool.

    library = Library(folder=None)       # default: HEARTH_DOCS_DIR or the user data folder's
                                         # Hearth/documents; SearchUnavailable without SQLite FTS5;
                                         # library.notice: a sentence when trigrams are missing
    library.add(folder, progress=cb, cancel=event) -> IndexSummary   # again: picks up changes
    library.update(folder=None, progress=cb, cancel=event) -> list[IndexSummary]
    library.remove(folder) -> int        # documents forgotten (files untouched)
    library.folders() -> list[FolderInfo]
    library.problems() -> list[Skipped]  # files that could not be read, with why
    library.search(query, limit=10) -> list[Hit]
    library.document(path) -> Document   # lines as the browser shows them; NotInLibrary otherwise

`cb` receives frozen `IndexProgress` events from the indexing thread; `IndexSummary.sentences()`
says what happened, a skipped file in a sentence each. Modules: paths (where), readers/ (PDF, Word,
HTML, Markdown, text), layout (numbered lines, chunks), database (tables, FTS5 check), indexer
(what changed), search (bm25 + trigram), library (this object). The tool that shows all this to
the model is core.chat.browser_tool.
"""

from core.docs.errors import LibraryDamaged, NotInLibrary, SearchUnavailable
from core.docs.indexer import IndexProgress, IndexSummary, ProgressCallback, Skipped
from core.docs.layout import Line, Origin
from core.docs.library import Document, FolderInfo, Library
from core.docs.paths import default_library_dir
from core.docs.search import Hit

__all__ = [
    "Document",
    "FolderInfo",
    "Hit",
    "IndexProgress",
    "IndexSummary",
    "Library",
    "LibraryDamaged",
    "Line",
    "NotInLibrary",
    "Origin",
    "ProgressCallback",
    "SearchUnavailable",
    "Skipped",
    "default_library_dir",
]
