"""The document library under the organisation's `documents_folders`: a folder outside them is
refused with the policy's sentence, and one added before the policy said so is no longer updated,
searched or opened (kept in the index, listed, until removed)."""

from __future__ import annotations

import pytest

from core.docs import Library, NotInLibrary
from core.system.policy import Policy, PolicyForbids


def folder_with(path, text: str):
    path.mkdir(parents=True)
    (path / "note.txt").write_text(text, encoding="utf-8")
    return path


def test_only_the_policy_folders_may_be_added(tmp_path):
    allowed = folder_with(tmp_path / "shared" / "manuals", "The boiler pressure is 1.5 bar.")
    private = folder_with(tmp_path / "home", "My diary says the tulips bloomed.")
    library = Library(tmp_path / "index", policy=Policy(documents_folders=((tmp_path / "shared").resolve(),),
                                                        reason="ACME IT."))
    assert library.add(allowed).added == 1
    with pytest.raises(PolicyForbids, match=r"may not be added to the document library: only folders inside .*ACME IT"):
        library.add(private)
    assert [f.path for f in library.folders()] == [allowed.resolve()]


def test_a_folder_added_before_the_policy_is_not_read(tmp_path):
    allowed = folder_with(tmp_path / "shared", "The boiler pressure is 1.5 bar.")
    private = folder_with(tmp_path / "home", "The tulips bloomed in the boiler room.")
    Library(tmp_path / "index").add(private)
    library = Library(tmp_path / "index", policy=Policy(documents_folders=(allowed.resolve(),)))
    assert library.is_empty()  # the only folder in it is one the model may not read
    library.add(allowed)
    assert [hit.path.parent for hit in library.search("boiler")] == [allowed.resolve()]
    with pytest.raises(NotInLibrary, match="policy keeps out of the library"):
        library.document(private / "note.txt")
    summaries = {s.folder: s for s in library.update()}
    assert "was not updated: your organisation's policy keeps it out" in summaries[private.resolve()].note
    assert len(library.folders()) == 2  # still listed, so it can be removed
    assert library.remove(private) == 1
