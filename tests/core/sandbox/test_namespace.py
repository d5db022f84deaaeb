"""Where the system keeps user namespaces from unprivileged processes, the reason is found before
anything is tried; root is exempt."""

from __future__ import annotations

import pytest

from core.sandbox.namespace import unavailable_reason


@pytest.mark.parametrize("path, value, words", [
    ("proc/sys/kernel/unprivileged_userns_clone", "0", "unprivileged_userns_clone = 0"),
    ("proc/sys/user/max_user_namespaces", "0", "max_user_namespaces = 0"),
    ("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "AppArmor"),
])
def test_each_switch_is_named(tmp_path, path, value, words):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(value + "\n")
    assert words in unavailable_reason(tmp_path, euid=1000)
    assert unavailable_reason(tmp_path, euid=0) is None


def test_no_switch_means_it_may_be_tried(tmp_path):
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/apparmor_restrict_unprivileged_userns").write_text("0\n")
    assert unavailable_reason(tmp_path, euid=1000) is None
