"""Reading the organisation's policy file (core/system/policy_file.py): every setting, refused
files naming their line (then the most restrictive mode), and HEARTH_POLICY never loosening the
machine's file."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from core.system.policy import NO_POLICY, SETTINGS, Policy, PolicyForbids
from core.system.policy_file import PolicyFileError, load_policy, parse_policy

FULL = """\
reason = "Set by ACME IT (it-help@acme.example)."
offline = true
downloads = false
models_dir = "/srv/hearth/models"
allowed_models = ["gpt-oss-20b"]
reasoning_display = "collapsed"
api_server = "loopback"
servers = ["https://llm.acme.example/v1"]
local_models = true
builtin_tools = ["browser"]
documents_folders = ["/srv/docs"]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_no_file_leaves_everything_to_the_user(tmp_path):
    policy = load_policy({}, system_path=tmp_path / "absent.toml")
    assert policy == NO_POLICY
    assert policy.locks() == {}
    assert not policy.offline_forced and policy.downloads_allowed and policy.api_server_allowed
    assert policy.effective_offline(False) is False
    assert policy.effective_models_dir(Path("/home/me/models")) == Path("/home/me/models")
    assert policy.effective_reasoning_display("shown") == "shown"
    policy.check_model("anything")
    policy.check_download()
    policy.check_api_server("0.0.0.0")


def test_every_setting_of_a_full_file(tmp_path):
    path = write(tmp_path, "policy.toml", FULL)
    policy = load_policy({}, system_path=path)
    assert policy.error is None
    assert policy.offline_forced and not policy.downloads_allowed
    assert policy.effective_offline(False) is True
    assert policy.effective_models_dir(Path("/home/me/models")) == Path("/srv/hearth/models")
    assert policy.effective_reasoning_display("shown") == "collapsed"
    assert policy.allows_model("gpt-oss-20b") and not policy.allows_model("gpt-oss-120b")
    with pytest.raises(PolicyForbids, match=r"'gpt-oss-120b' is not allowed.*allowed: gpt-oss-20b"):
        policy.check_model("gpt-oss-120b")
    with pytest.raises(PolicyForbids, match="Downloading models is turned off"):
        policy.check_download()
    policy.check_api_server("127.0.0.1")
    with pytest.raises(PolicyForbids, match="only listen on this computer"):
        policy.check_api_server("0.0.0.0")
    locks = policy.locks()
    assert list(locks) == list(SETTINGS)
    for reason in locks.values():
        assert reason.startswith("Locked by your organisation's policy (")
        assert str(path) in reason and reason.endswith("Set by ACME IT (it-help@acme.example).")


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("offline = true\ndownloads = nope\n", 2, "line 2, column 13: the file is not valid TOML (invalid value)"),
    ('offline = true\n\noflfine = false\n', 3, "unknown setting 'oflfine' (did you mean 'offline'?)"),
    ('offline = "yes"\n', 1, "offline must be true or false"),
    ('# comment\nreasoning_display = "folded"\n', 2, "reasoning_display must be one of 'shown', 'collapsed'"),
    ('api_server = true\n', 1, "api_server must be one of 'network', 'loopback', 'off'"),
    ('allowed_models = "gpt-oss-20b"\n', 1, "allowed_models must be a list of model names"),
    ('offline = true\n  models_dir = "models"\n', 2, "models_dir must be an absolute path"),
    ('reason = 3\n', 1, "reason must be text"),
])
def test_a_bad_file_is_refused_naming_its_line(tmp_path, text, line, problem):
    path = write(tmp_path, "policy.toml", text)
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(text, path)
    assert f"line {line}" in str(raised.value) and problem in str(raised.value)
    # Loaded for real, it is not ignored: the most restrictive mode, saying why on every lock.
    policy = load_policy({}, system_path=path)
    assert policy.error == str(raised.value)
    assert policy.offline_forced and not policy.downloads_allowed and not policy.api_server_allowed
    assert not policy.allows_model("gpt-oss-20b")
    assert policy.effective_reasoning_display("shown") == "hidden"
    with pytest.raises(PolicyForbids, match="No model is allowed"):
        policy.check_model("gpt-oss-20b")
    reason = policy.lock_reason("offline")
    assert f"line {line}" in reason and "most restrictive mode" in reason


@pytest.mark.parametrize(("text", "line", "problem"), [
    # A table, however it is written, is named where it is made: its header, dotted key or inline table.
    ("# Lab machines\n[downloads]\nallowed = 5\n", 2, "downloads must be true or false, not a table"),
    ("offline = true\n\ndownloads.allowed = 5\n", 3, "downloads must be true or false, not a table"),
    ("offline = true\ndownloads = { allowed = 5 }\n", 2, "downloads must be true or false, not a table"),
    ("offline = true\n[lab.rooms]\noffline = false\n", 2, "unknown setting 'lab'"),
    ('offline = true\n[[api_server]]\nmode = "off"\n', 2, "api_server must be one of 'network', 'loopback', "
                                                        "'off', not a list of tables"),
    # Quoted keys, and text inside a multi-line string that only looks like a key.
    ('offline = true\n"api_server" = "open"\n', 2, "not 'open'"),
    ('reason = """\noffline = true, always.\n"""\noffline = "yes"\n', 4, "offline must be true or false"),
    ("offline = true\r\n\r\nreasoning_display = 'folded'\r\n", 3, "reasoning_display must be one of"),
])
def test_the_line_named_is_where_the_setting_is_written(text, line, problem):
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(text)
    assert f"policy.toml, line {line}: " in str(raised.value) and problem in str(raised.value)


def test_a_toml_mistake_names_the_line_and_column_or_the_end_of_the_file():
    with pytest.raises(PolicyFileError, match=r"^policy\.toml, line 2, column 10: the file is not valid TOML "
                                              r"\(invalid value\)$"):
        parse_policy("offline = true\nreason = \n\n")
    with pytest.raises(PolicyFileError, match=r"^policy\.toml, line 2 \(the end of the file\): the file is not "
                                              r"valid TOML \(cannot overwrite a value\)$"):
        parse_policy("offline = true\noffline = false")


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_bytes(b"offline = true\r\n# Caf\xc3\xa9 is fine\r\nreason = 'Caf\xe9 lab'\r\n")  # Latin-1 on line 3
    policy = load_policy({}, system_path=path)
    assert policy.error == (f"{path}, line 3: this line is not UTF-8 text (it holds the byte 0xE9); "
                            "save the file as UTF-8")
    assert policy.offline_forced and not policy.allows_model("gpt-oss-20b")
    path.write_bytes("offline = true\n".encode("utf-16"))
    assert load_policy({}, system_path=path).error == f"{path} is saved as UTF-16 text; save it as UTF-8 instead"
    # The byte-order mark some Windows editors put before UTF-8 text is not a fault.
    path.write_bytes(b"\xef\xbb\xbfoffline = true\n")
    assert load_policy({}, system_path=path) == Policy(offline=True, sources=(path,))


def test_a_missing_hearth_policy_file_is_refused_in_a_sentence(tmp_path):
    missing = tmp_path / "nope.toml"
    policy = load_policy({"HEARTH_POLICY": str(missing)}, system_path=tmp_path / "absent")
    assert policy.error == f"{missing} cannot be read: there is no such file"
    assert policy.offline_forced and policy.sources == (missing,)


def test_a_folder_in_place_of_the_file_is_refused_in_a_sentence(tmp_path, monkeypatch):
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    assert load_policy({}, system_path=folder).error == f"{folder} cannot be read: it is a folder, not a file"
    # Windows says "permission denied" when asked to open a folder; the sentence is the same.
    monkeypatch.setattr(Path, "read_bytes", _raises(PermissionError(errno.EACCES, "Permission denied")))
    assert load_policy({}, system_path=folder).error == f"{folder} cannot be read: it is a folder, not a file"


@pytest.mark.parametrize(("failure", "why"), [
    (PermissionError(errno.EACCES, "Permission denied"),
     "Hearth is not allowed to open it (check the permissions of the file and its folders)"),
    (OSError(errno.EIO, "Input/output error"), "the system says input/output error"),
])
def test_an_unreadable_file_is_refused_in_a_sentence(tmp_path, monkeypatch, failure, why):
    # The tests run as root, who may read any file whatever its mode, so the refusal is
    # simulated: reading the file raises what the system would raise for another user.
    path = write(tmp_path, "policy.toml", "offline = false\n")
    monkeypatch.setattr(Path, "read_bytes", _raises(failure))
    policy = load_policy({}, system_path=path)
    assert policy.error == f"{path} cannot be read: {why}"
    assert "Errno" not in policy.error and policy.offline_forced


def test_a_policy_folder_that_may_not_be_opened_is_not_skipped(tmp_path, monkeypatch):
    # Path.exists() raises, rather than answering False, when a folder on the way may not be
    # opened (simulated, as above): the file may well be there, so it is refused, not ignored.
    path = tmp_path / "locked" / "policy.toml"
    monkeypatch.setattr(Path, "exists", _raises(PermissionError(errno.EACCES, "Permission denied")))
    monkeypatch.setattr(Path, "read_bytes", _raises(PermissionError(errno.EACCES, "Permission denied")))
    policy = load_policy({}, system_path=path)
    assert policy.error == (f"{path} cannot be read: Hearth is not allowed to open it "
                            "(check the permissions of the file and its folders)")


def _raises(failure: Exception):
    def method(self, *args, **kwargs):
        raise failure
    return method


def test_hearth_policy_points_elsewhere(tmp_path):
    path = write(tmp_path, "org.toml", 'reasoning_display = "hidden"\n')
    policy = load_policy({"HEARTH_POLICY": str(path)}, system_path=tmp_path / "absent.toml")
    assert policy.reasoning_display == "hidden" and policy.sources == (path,)


def test_hearth_policy_cannot_loosen_the_machine_file(tmp_path):
    machine = write(tmp_path, "machine.toml",
                    'offline = true\nallowed_models = ["a", "b"]\nreasoning_display = "collapsed"\n'
                    'api_server = "loopback"\nmodels_dir = "/srv/models"\n')
    user = write(tmp_path, "user.toml",
                 'offline = false\ndownloads = true\nallowed_models = ["b", "c"]\nreasoning_display = "shown"\n'
                 'api_server = "network"\nmodels_dir = "/home/me/models"\n')
    policy = load_policy({"HEARTH_POLICY": str(user)}, system_path=machine)
    assert policy.offline_forced and not policy.downloads_allowed
    assert policy.allowed_models == frozenset({"b"})
    assert policy.reasoning_display == "collapsed" and policy.api_server == "loopback"
    assert policy.models_dir == Path("/srv/models")
    assert policy.sources == (machine, user)
    # A broken file on either side still means the most restrictive mode.
    broken = write(tmp_path, "broken.toml", "offline = \n")
    assert load_policy({"HEARTH_POLICY": str(broken)}, system_path=machine).error
    # The stricter of two never relaxes a stricter value, whichever side holds it.
    assert Policy(api_server="off").stricter(Policy(api_server="network")).api_server == "off"
    assert Policy(reasoning_display="shown").stricter(Policy()).reasoning_display == "shown"
