"""`hearth docs`: add, list, search, update, remove on real files, what each prints, and its exit code."""

from __future__ import annotations

import json

import pytest

from cli import exit_codes
from cli.main import main
from core.errors import DiskFull
from tests.core.docs.documents import make_library_folder


@pytest.fixture
def docs(tmp_path, monkeypatch):
    """Runs `hearth docs ...` with the library in a folder of its own (through HEARTH_DOCS_DIR)."""
    monkeypatch.setenv("HEARTH_DOCS_DIR", str(tmp_path / "library"))
    return lambda *args: main(["docs", *map(str, args)])


def test_add_list_search_remove(docs, tmp_path, capsys):
    folder = tmp_path / "folder"
    paths = make_library_folder(folder)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 broken")

    assert docs("add", folder) == exit_codes.OK
    out, err = capsys.readouterr()
    assert f"{folder}: {len(paths)} documents in the library ({len(paths)} new)." in out
    assert f"{folder / 'broken.pdf'} was skipped: it is damaged or not a real PDF." in out
    assert "indexing [" in err and f"{len(paths) + 1}/{len(paths) + 1}" in err  # the progress bar

    assert docs("list") == exit_codes.OK
    out, _ = capsys.readouterr()
    assert f"{folder}\n    {len(paths)} documents, 1 could not be read" in out

    assert docs("list", "--json") == exit_codes.OK
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["path"] == str(folder) and listed[0]["documents"] == len(paths)

    assert docs("search", "harbour gate") == exit_codes.OK
    out, _ = capsys.readouterr()
    assert out.startswith("[0] harbour gate\n**viewing lines [0 - ")
    assert "【0†harbour.pdf】 page 2: The harbour gate closes at 21:40" in out  # names its file

    assert docs("search", "北京") == exit_codes.OK
    assert "会议.txt" in capsys.readouterr().out

    assert docs("search", "zeppelin") == exit_codes.FAILED
    assert "No documents match `zeppelin`." in capsys.readouterr().out

    assert docs("remove", folder) == exit_codes.OK
    assert f"Removed {folder} from the library ({len(paths)} documents)" in capsys.readouterr().out
    assert docs("list") == exit_codes.OK
    assert "The document library is empty" in capsys.readouterr().out


def test_update_picks_up_changes(docs, tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("The old fact.")
    (folder / "b.txt").write_text("The doomed fact.")
    assert docs("add", folder) == exit_codes.OK
    (folder / "a.txt").write_text("The new fact, edited.")
    (folder / "b.txt").unlink()
    (folder / "c.md").write_text("# C\nThe added fact.")
    capsys.readouterr()
    assert docs("update") == exit_codes.OK
    assert "2 documents in the library (1 new, 1 changed, 1 removed)." in capsys.readouterr().out
    assert docs("search", "doomed") == exit_codes.FAILED


def test_mistakes_fail_with_a_sentence(docs, tmp_path, capsys):
    assert docs("add", tmp_path / "missing") == exit_codes.FAILED
    assert "it does not exist" in capsys.readouterr().err
    assert docs("remove", tmp_path) == exit_codes.FAILED
    assert "is not one of the library's folders" in capsys.readouterr().err
    assert docs("search", "anything") == exit_codes.FAILED
    assert "The document library is empty" in capsys.readouterr().err
    assert docs("update") == exit_codes.OK
    with pytest.raises(SystemExit) as usage:
        docs("search")
    assert usage.value.code == exit_codes.USAGE


def test_ctrl_c_and_a_full_disk(docs, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "folder"
    folder.mkdir()

    def interrupted(self, folder, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr("core.docs.Library.add", interrupted)
    assert docs("add", folder) == exit_codes.STOPPED
    assert "The documents indexed so far are kept" in capsys.readouterr().err

    def full(self, folder, **kw):
        raise DiskFull("The disk holding the document library is full.")

    monkeypatch.setattr("core.docs.Library.add", full)
    assert docs("add", folder) == exit_codes.DISK_FULL


def test_docs_is_listed_in_hearth_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "docs" in capsys.readouterr().out
