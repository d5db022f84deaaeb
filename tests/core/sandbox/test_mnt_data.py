"""/mnt/data mapped in Python's file functions: only paths under it, str, bytes and path-like."""

from __future__ import annotations

from pathlib import PurePosixPath

from core.sandbox.mnt_data import mapper


def test_paths_under_mnt_data_go_to_the_scratch_folder():
    map_path = mapper("/home/ann/chat-3")
    assert map_path("/mnt/data") == "/home/ann/chat-3"
    assert map_path("/mnt/data/plot.png") == "/home/ann/chat-3/plot.png"
    assert map_path(b"/mnt/data/x.csv") == b"/home/ann/chat-3/x.csv"
    assert map_path(PurePosixPath("/mnt/data/sub/y")) == "/home/ann/chat-3/sub/y"


def test_other_paths_and_descriptors_pass_unchanged():
    map_path = mapper("/s")
    for path in ("/mnt/database", "mnt/data/x", "/mnt", "x.txt", 3, b"/etc/hosts"):
        assert map_path(path) == path
