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


def test_without_a_desktop_the_window_says_so_instead_of_aborting(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    assert app.no_display({"DISPLAY": ":0"}) is None and app.no_display({"QT_QPA_PLATFORM": "offscreen"}) is None
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    root = Path(__file__).resolve().parents[2]
    env.update(PYTHONPATH=str(root), HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "d"),
               XDG_CONFIG_HOME=str(tmp_path / "c"))
    done = subprocess.run([sys.executable, "-m", "cli.main"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    # Once: exit 134 (abort) and Qt's text naming xcb-cursor and suggesting a reinstall.
    assert done.returncode == 1, done.stderr
    assert "no graphical desktop" in done.stderr and "hearth chat" in done.stderr
    assert "xcb" not in done.stderr and "reinstall" not in done.stderr.lower()


def test_qt_font_database_noise_is_quieted_unless_the_person_set_rules():
    env = {}
    app.quiet_qt_logging(env)
    assert "qt.text.font.db=false" in env["QT_LOGGING_RULES"]
    mine = {"QT_LOGGING_RULES": "*.debug=true"}
    app.quiet_qt_logging(mine)
    assert mine["QT_LOGGING_RULES"] == "*.debug=true"
