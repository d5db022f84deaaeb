"""The policy's built-in tools and document folders: `builtin_tools` (the tools a chat may offer)
and `documents_folders` (the folders the library may hold), read with their lines named when
wrong, said plainly when they refuse, both files applying at once, and none at all in the most
restrictive mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.system.policy import NO_POLICY, Policy, PolicyForbids
from core.system.policy_file import PolicyFileError, load_policy, parse_policy

TOOLS = """\
reason = "Set by ACME IT (it-help@acme.example)."
builtin_tools = ["browser"]
documents_folders = ["/srv/docs", "/home/shared/manuals"]
"""


def test_the_keys_are_read_and_locked_with_the_reason():
    policy = parse_policy(TOOLS)
    assert policy.builtin_tools == {"browser"}
    assert policy.documents_folders == (Path("/srv/docs"), Path("/home/shared/manuals"))
    assert policy.allows_builtin("browser") and not policy.allows_builtin("python")
    policy.check_builtin("browser")
    with pytest.raises(PolicyForbids) as refused:
        policy.check_builtin("python")
    assert str(refused.value) == ("Running Python (the model's python tool) is turned off on this computer "
                                  "(allowed: browser). Locked by your organisation's policy (policy.toml). "
                                  "Set by ACME IT (it-help@acme.example).")
    for setting in ("builtin_tools", "documents_folders"):
        assert policy.lock_reason(setting).endswith("Set by ACME IT (it-help@acme.example).")


def test_no_key_allows_every_tool_and_folder():
    assert NO_POLICY.allows_builtin("python") and NO_POLICY.allows_documents_folder("/anywhere")
    assert not NO_POLICY.locked("builtin_tools") and not NO_POLICY.locked("documents_folders")


def test_no_tool_at_all():
    policy = parse_policy("builtin_tools = []\n")
    with pytest.raises(PolicyForbids, match=r"^Searching your documents \(the model's browser tool\) is turned off "
                                            r"on this computer\. Locked"):
        policy.check_builtin("browser")


def test_a_folder_is_allowed_inside_a_listed_one():
    policy = parse_policy(TOOLS)
    assert policy.allows_documents_folder("/srv/docs") and policy.allows_documents_folder(Path("/srv/docs/a/b"))
    assert not policy.allows_documents_folder("/srv/docs-old") and not policy.allows_documents_folder("/home")
    policy.check_documents_folder("/home/shared/manuals/pumps")
    with pytest.raises(PolicyForbids, match=r"^/home/me may not be added to the document library: only folders inside "
                                            r"/srv/docs, /home/shared/manuals may\. Locked"):
        policy.check_documents_folder("/home/me")
    with pytest.raises(PolicyForbids, match=r"^No folder may be added to the document library on this computer"):
        parse_policy("documents_folders = []\n").check_documents_folder("/srv/docs")


def test_a_listed_folder_reached_through_a_link_is_the_same_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    policy = Policy(documents_folders=(tmp_path / "link",))
    assert policy.allows_documents_folder((tmp_path / "real" / "sub").resolve())


@pytest.mark.parametrize(("text", "line", "problem"), [
    ('offline = true\nbuiltin_tools = "browser"\n', 2, 'builtin_tools must be a list of tool names, e.g. ["browser"]'),
    ('builtin_tools = ["browser", "web"]\n', 1, "builtin_tools names 'web'; the model's built-in tools are 'browser' "
                                                "and 'python'"),
    ('\ndocuments_folders = "/srv/docs"\n', 2, "documents_folders must be a list of folder paths"),
    ('documents_folders = ["docs"]\n', 1, "documents_folders must hold absolute paths, not 'docs'"),
])
def test_a_wrong_value_names_its_line(text, line, problem):
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(text)
    assert f"line {line}: " in str(raised.value) and problem in str(raised.value)


def test_the_most_restrictive_mode_offers_no_tool_and_no_folder():
    policy = Policy.most_restrictive("broken")
    assert not policy.allows_builtin("browser") and not policy.allows_documents_folder("/srv/docs")
    with pytest.raises(PolicyForbids, match="most restrictive mode"):
        policy.check_builtin("python")


def test_hearth_policy_cannot_allow_what_the_machine_file_does_not(tmp_path):
    machine = tmp_path / "machine.toml"
    machine.write_text('builtin_tools = ["browser"]\ndocuments_folders = ["/srv/docs"]\n')
    user = tmp_path / "user.toml"
    user.write_text('builtin_tools = ["browser", "python"]\ndocuments_folders = ["/srv", "/home/me"]\n')
    policy = load_policy({"HEARTH_POLICY": str(user)}, system_path=machine)
    assert policy.builtin_tools == {"browser"} and policy.documents_folders == (Path("/srv/docs"),)
    # A narrower folder in the user's file narrows it further.
    user.write_text('documents_folders = ["/srv/docs/public"]\n')
    assert load_policy({"HEARTH_POLICY": str(user)}, system_path=machine).documents_folders == (
        Path("/srv/docs/public"),)
