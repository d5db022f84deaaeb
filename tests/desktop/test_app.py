"""desktop.app: the start-up check that turns Qt's abort over missing X11 libraries into a
sentence with the command that fixes it."""

from desktop import app


def test_no_check_where_qt_draws_another_way():
    assert app.missing_display_library({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}) is None
    assert app.missing_display_library({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) is None
    assert app.missing_display_library({}) is None


def test_the_missing_library_is_named_with_its_package():
    message = "libxcb-icccm.so.4: cannot open shared object file: No such file or directory"
    assert app._library_named(message) == "libxcb-icccm.so.4"
    sentence = app.display_library_sentence(["libxcb-icccm.so.4", "libxcb-cursor.so.0"])
    assert "libxcb-icccm.so.4, libxcb-cursor.so.0 is missing" in sentence
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 " in sentence  # the named ones first
    assert "libxkbcommon-x11-0" in sentence


def test_main_says_it_and_stops_before_qt_aborts(monkeypatch, capsys):
    monkeypatch.setattr(app, "missing_display_library", lambda: "Hearth cannot open its window: ...")
    assert app.main([]) == 1
    assert "Hearth cannot open its window" in capsys.readouterr().err
