"""The document library end to end on real files: a fact planted in each format is found, re-indexing
sees changed, added and deleted files, bad files are skipped with a sentence, and folders behave."""

from __future__ import annotations

import os
import sqlite3

import pytest

from core.docs import Library, LibraryDamaged, NotInLibrary, SearchUnavailable
from core.docs.readers import text as text_reader
from core.errors import Cancelled, FileNotReadable
from tests.core.docs.documents import FACTS, make_library_folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    paths = make_library_folder(root / "folder")
    library = Library(root / "index")
    summary = library.add(root / "folder")
    return library, paths, summary


def test_adding_a_folder_indexes_every_format(built):
    _, paths, summary = built
    assert summary.added == len(paths) and summary.skipped == [] and summary.other_files == 0
    assert summary.sentences()[0].endswith(f"{len(paths)} documents in the library ({len(paths)} new).")


@pytest.mark.parametrize("kind", sorted(FACTS))
def test_a_fact_planted_in_each_format_is_found(built, kind):
    library, paths, _ = built
    fact, query = FACTS[kind]
    hit = library.search(query)[0]
    assert hit.path == paths[kind]
    assert fact[:30] in hit.snippet
    document = library.document(hit.path)
    assert fact[:30] in document.lines[hit.line].text  # the hit names the line `open` shows


def test_a_pdf_hit_names_its_page(built):
    library, paths, _ = built
    hit = library.search("harbour gate closes")[0]
    assert (hit.path, hit.page, hit.name) == (paths["pdf"], 2, "harbour.pdf")


def test_a_hit_in_a_subfolder_is_named_relative_to_the_library_folder(built):
    library, _, _ = built
    assert library.search("greenhouse")[0].name == "sub/visitors.html"


def test_html_scripts_are_not_indexed(built):
    library, paths, _ = built
    document = library.document(paths["html"])
    assert not any("var x" in line.text for line in document.lines)


@pytest.mark.parametrize(("query", "kind"), [
    ("北京", "chinese"), ("预算", "chinese"), ("量子计算", "chinese"),
    ("東京", "japanese"), ("予約", "japanese"), ("展望台", "japanese"),
])
def test_chinese_and_japanese_are_found_by_two_and_three_characters(built, query, kind):
    library, paths, _ = built
    hits = library.search(query)
    assert [h.path for h in hits] == [paths[kind]]


def test_a_query_with_nothing_in_common_finds_nothing(built):
    library, _, _ = built
    assert library.search("zeppelin") == []
    assert library.search("!!!") == []


def test_a_word_part_is_found_as_a_substring_when_no_whole_word_matches(built):
    library, paths, _ = built
    assert library.search("greenhou")[0].path == paths["html"]


def test_documents_outside_the_library_are_refused(built, tmp_path):
    library, _, _ = built
    outside = tmp_path / "secret.txt"
    outside.write_text("nope")
    with pytest.raises(NotInLibrary, match="is not a document of the library"):
        library.document(outside)


def test_a_document_can_be_named_by_its_file_url(built):
    library, paths, _ = built
    assert library.document(paths["chinese"].as_uri()).path == paths["chinese"]


def test_reindexing_sees_changed_added_and_deleted_files(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "change.txt").write_text("The meeting room is Alder.\n")
    (folder / "delete.md").write_text("# Old\nThe old badge colour is teal.\n")
    (folder / "touch.txt").write_text("The printer code is 8080.\n")
    (folder / "same.txt").write_text("Nothing happens to this one.\n")
    library = Library(tmp_path / "index")
    assert library.add(folder).added == 4

    (folder / "change.txt").write_text("The meeting room is now Birch, on floor three.\n")
    (folder / "delete.md").unlink()
    (folder / "add.txt").write_text("The new badge colour is amber.\n")
    os.utime(folder / "touch.txt", ns=(1, 1))  # a new mtime, the same content: not read again
    summary = library.update(folder)[0]
    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == (1, 1, 1, 2)
    assert "1 new, 1 changed, 1 removed, 2 unchanged" in summary.sentences()[0]
    assert library.search("Birch")[0].path == folder / "change.txt"
    assert library.search("Alder") == []
    assert library.search("teal") == []
    assert library.search("amber")[0].path == folder / "add.txt"

    again = library.add(folder)  # adding again is an update too
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 4)


def test_a_corrupt_file_is_skipped_with_a_sentence_and_the_rest_indexed(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 cut short")
    (folder / "broken.docx").write_bytes(b"not a zip at all")
    (folder / "fine.txt").write_text("The fine file is found.\n")
    (folder / "picture.png").write_bytes(b"\x89PNG")
    (folder / ".hidden.txt").write_text("hidden")
    library = Library(tmp_path / "index")
    summary = library.add(folder)
    assert summary.added == 1 and summary.other_files == 1
    said = summary.sentences()
    assert f"{folder / 'broken.pdf'} was skipped: it is damaged or not a real PDF." in said
    assert f"{folder / 'broken.docx'} was skipped: it is damaged or not a real Word (.docx) file." in said
    assert any("1 other file in it is not a kind the library reads" in s for s in said)
    assert [p.path.name for p in library.problems()] == ["broken.docx", "broken.pdf"]
    assert library.folders()[0].unreadable == 2
    # Unchanged, it is not read again, but still reported.
    assert len(library.update(folder)[0].skipped) == 2


def test_a_file_this_account_cannot_read_is_skipped_and_tried_again(tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "locked.txt").write_text("The vault number is 12.\n")
    real = text_reader.read

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(text_reader, "read", refuse)
    library = Library(tmp_path / "index")
    summary = library.add(folder)
    assert summary.sentences()[1] == (f"{folder / 'locked.txt'} was skipped: this account is not allowed to read it "
                                      f"(check its permissions).")
    monkeypatch.setattr(text_reader, "read", real)
    assert library.update(folder)[0].added == 0 and library.search("vault")[0].path.name == "locked.txt"


def test_progress_reports_each_file_then_done(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"file {i}")
    events = []
    Library(tmp_path / "index").add(folder, progress=events.append)
    assert [(e.phase, e.done, e.total) for e in events] == [
        ("scanning", 0, 0), ("reading", 0, 3), ("reading", 1, 3), ("reading", 2, 3), ("done", 3, 3)]
    assert events[-1].fraction == 1.0


def test_cancel_keeps_what_was_indexed(tmp_path):
    import threading

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"unique{i} words")
    cancel = threading.Event()
    library = Library(tmp_path / "index")

    def stop_after_two(event):
        if event.phase == "reading" and event.done == 1:  # while the second file is read
            cancel.set()

    with pytest.raises(Cancelled, match="after 2 of 3 documents"):
        library.add(folder, progress=stop_after_two, cancel=cancel)
    assert library.search("unique1")[0].path.name == "1.txt"
    assert library.add(folder).added == 1


def test_folders_inside_and_around_library_folders(tmp_path):
    (tmp_path / "top" / "inner").mkdir(parents=True)
    (tmp_path / "top" / "inner" / "a.txt").write_text("alpha")
    (tmp_path / "top" / "b.txt").write_text("beta")
    library = Library(tmp_path / "index")
    library.add(tmp_path / "top" / "inner")
    summary = library.add(tmp_path / "top")
    assert "now includes the library folders inside it" in summary.note
    assert (summary.added, summary.unchanged) == (1, 1)
    assert [f.path for f in library.folders()] == [tmp_path / "top"]
    inside = library.add(tmp_path / "top" / "inner")
    assert "is already in the library, inside" in inside.note
    assert [f.documents for f in library.folders()] == [2]


def test_a_folder_not_there_keeps_its_documents(tmp_path):
    folder = tmp_path / "usb"
    folder.mkdir()
    (folder / "a.txt").write_text("The drive holds the plans.")
    library = Library(tmp_path / "index")
    library.add(folder)
    folder.rename(tmp_path / "unplugged")
    summary = library.update()[0]
    assert "is not there now" in summary.note and summary.unchanged == 1
    assert library.search("plans")  # still searchable
    assert library.folders()[0].present is False


def test_remove_forgets_a_folder_and_only_a_library_folder(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The removable fact.")
    library = Library(tmp_path / "index")
    library.add(folder)
    with pytest.raises(NotInLibrary, match="is not one of the library's folders"):
        library.remove(tmp_path / "elsewhere")
    assert library.remove(folder) == 1
    assert library.search("removable") == [] and library.is_empty()
    assert (folder / "a.txt").exists()


def test_adding_what_is_not_a_folder_says_why(tmp_path):
    library = Library(tmp_path / "index")
    with pytest.raises(FileNotReadable, match="it does not exist"):
        library.add(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(FileNotReadable, match="it is a file, not a folder"):
        library.add(tmp_path / "file.txt")


def test_without_fts5_the_library_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr("core.docs.database.search_support", lambda: (False, False))
    with pytest.raises(SearchUnavailable, match=r"full-text search \(FTS5\)"):
        Library(tmp_path / "index")


def test_without_trigrams_chinese_is_still_found_and_a_notice_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr("core.docs.database.search_support", lambda: (True, False))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "zh.txt").write_text("会议将在北京举行。", encoding="utf-8")
    library = Library(tmp_path / "index")
    assert "no trigram index" in library.notice
    library.add(folder)
    assert library.search("北京举行")[0].path.name == "zh.txt"


def test_the_real_sqlite_here_has_fts5_and_trigrams():
    from core.docs.database import search_support

    assert search_support() == (True, True)


def test_a_damaged_index_file_says_what_to_do(tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "library.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryDamaged, match="Delete that file and add your folders again"):
        Library(tmp_path / "index")


def test_the_index_is_sqlite_with_both_full_text_tables(built):
    library, _, _ = built
    with sqlite3.connect(library.index_path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"chunks_words", "chunks_trigram", "files", "folders", "parts"} <= names
