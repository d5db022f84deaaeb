"""The typed settings module: defaults, round trips through the INI file, bad stored values."""

import pytest

from desktop.settings import Settings


def test_defaults(tmp_path):
    s = Settings(tmp_path / "s.ini")
    assert (s.theme, s.reasoning_effort, s.offline, s.models_dir) == ("light", "medium", False, "")
    assert s.temperature == 1.0 and s.top_p == 1.0
    assert s.models_path() is None


def test_values_survive_a_restart(tmp_path):
    s = Settings(tmp_path / "s.ini")
    s.theme, s.reasoning_effort, s.offline = "dark", "high", True
    s.temperature, s.max_new_tokens, s.models_dir = 0.5, 123, str(tmp_path / "m")
    s.sync()
    again = Settings(tmp_path / "s.ini")
    assert (again.theme, again.reasoning_effort, again.offline) == ("dark", "high", True)
    assert again.temperature == 0.5 and again.max_new_tokens == 123
    assert again.models_path() == tmp_path / "m"


def test_a_bad_stored_value_falls_back_to_the_default(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text("[appearance]\ntheme=purple\n[chat]\ntemperature=warm\n")
    s = Settings(path)
    assert s.theme == "light"
    assert s.temperature == 1.0


def test_setting_an_unknown_choice_is_refused(tmp_path):
    s = Settings(tmp_path / "s.ini")
    with pytest.raises(ValueError, match="theme"):
        s.theme = "purple"
