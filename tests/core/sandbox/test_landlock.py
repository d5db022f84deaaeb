"""Landlock, where the kernel has it: the code writes only in its session folder and reads only the
system's and Python's folders, so it can neither change Hearth's settings (offline mode) nor read
the person's files."""

from __future__ import annotations

import pytest

from core.sandbox.landlock import abi_version
from tests.core.sandbox.conftest import linux_only

pytestmark = [linux_only, pytest.mark.skipif(abi_version() < 1, reason="this kernel has no Landlock")]


@pytest.mark.parametrize("mode", ["auto", "seccomp"])
def test_writes_and_reads_stay_in_the_session_folder(open_tool, tmp_path, mode):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "settings.toml").write_text("offline = true\n")
    tool = open_tool(mode=mode, scratch=tmp_path / "chat")
    assert any(layer.startswith("Landlock") for layer in tool.isolation.layers)
    for code in (f"open({str(outside / 'settings.toml')!r}, 'w')",
                 f"open({str(outside / 'new.txt')!r}, 'w')",
                 f"open({str(outside / 'settings.toml')!r}).read()"):
        assert tool.call(code).endswith(f"Permission denied: '{outside}/{code.split('/')[-1].split(chr(39))[0]}'")
    assert (outside / "settings.toml").read_text() == "offline = true\n"
    assert not (outside / "new.txt").exists()
    assert tool.call("import tempfile, numpy\nwith tempfile.TemporaryFile() as f:\n    f.write(b'ok')\n'fine'") == \
        "'fine'\n"
