"""`hearth docs add` under the organisation's `documents_folders`: a folder outside them is refused
with the policy's sentence and exit code 3; one inside them is added."""

from __future__ import annotations

from cli import exit_codes
from cli.main import main


def test_a_folder_outside_the_policy_folders_is_refused(tmp_path, monkeypatch, capsys):
    shared, private = tmp_path / "shared", tmp_path / "private"
    for folder in (shared / "manuals", private):
        folder.mkdir(parents=True)
        (folder / "note.txt").write_text("The boiler pressure is 1.5 bar.\n")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'reason = "Set by ACME IT."\ndocuments_folders = ["{shared.resolve()}"]\n')
    monkeypatch.setenv("HEARTH_POLICY", str(policy))
    monkeypatch.setenv("HEARTH_DOCS_DIR", str(tmp_path / "library"))
    assert main(["docs", "add", str(private)]) == exit_codes.REFUSED
    err = capsys.readouterr().err
    assert f"{private.resolve()} may not be added to the document library: only folders inside {shared.resolve()} " \
           "may." in err and "Set by ACME IT." in err
    assert main(["docs", "add", str(shared / "manuals")]) == exit_codes.OK
