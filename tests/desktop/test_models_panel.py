"""ModelCard / ModelsPanel: fit badges with the planner's reason, buttons for each state, progress."""

from pathlib import Path

from core.store.model_store import ModelInfo
from core.store.progress import Progress
from core.system.hardware import FitPlan
from desktop.widgets.models_panel import ModelsPanel

GIB = 1024**3


def info(status="available", **fields):
    values = dict(id="gpt-oss-20b", repo="openai/gpt-oss-20b", description="The smaller one.", status=status,
                  path=None, bytes_on_disk=0, total_bytes=13 * GIB)
    return ModelInfo(**(values | fields))


def plan(verdict="cpu-slow"):
    return FitPlan(model="gpt-oss-20b", context_length=8192, weights_bytes=13 * GIB, kv_cache_bytes=GIB // 5,
                   overhead_bytes=2 * GIB, needed_bytes=15 * GIB, verdict=verdict, device="cpu",
                   available_bytes=23 * GIB, reason="gpt-oss-20b needs 15.0 GiB and 23.0 GiB is free.")


def visible_buttons(card):
    return sorted(k for k, b in card.buttons.items() if not b.isHidden())


def test_badge_and_buttons_follow_the_state(qtbot):
    panel = ModelsPanel()
    qtbot.addWidget(panel)
    panel.set_models([info()], {"gpt-oss-20b": plan()}, {}, None, "/models")
    card = panel.cards["gpt-oss-20b"]
    assert card.badge.text() == "Runs slowly on the processor"
    assert card.badge.toolTip() == plan().reason and card.badge.property("fit") == "warn"
    assert visible_buttons(card) == ["download"]
    assert panel.folder_label.text() == "Models are kept in /models"

    panel.set_models([info()], {"gpt-oss-20b": plan()}, {"gpt-oss-20b": "download"}, None)
    assert visible_buttons(card) == ["cancel", "pause"]

    partial = info("partial", bytes_on_disk=4 * GIB)
    panel.set_models([partial], {}, {}, None)
    assert visible_buttons(card) == ["cancel", "delete", "resume"]
    assert card.state.text().startswith("Paused") and card.bar.value() == int(1000 * 4 / 13)

    installed = info("installed", path=Path("/m/gpt-oss-20b"), bytes_on_disk=13 * GIB)
    panel.set_models([installed], {"gpt-oss-20b": plan("gpu")}, {}, None)
    assert visible_buttons(card) == ["delete", "export", "use", "verify"]
    assert card.badge.property("fit") == "good"
    panel.set_models([installed], {}, {}, "gpt-oss-20b")
    assert "in use" in card.state.text() and "use" not in visible_buttons(card)


def test_a_download_running_in_another_process_offers_nothing_that_would_fail(qtbot):
    panel = ModelsPanel()
    qtbot.addWidget(panel)
    panel.set_models([info("partial", bytes_on_disk=GIB, downloading=True)], {}, {}, None)
    card = panel.cards["gpt-oss-20b"]
    assert card.state.text().startswith("Being downloaded by another Hearth window or terminal")
    assert visible_buttons(card) == []


def test_buttons_report_actions_and_resume_is_a_download(qtbot):
    panel = ModelsPanel()
    qtbot.addWidget(panel)
    panel.set_models([info("partial", bytes_on_disk=GIB)], {}, {}, None)
    with qtbot.waitSignal(panel.action) as action:
        panel.cards["gpt-oss-20b"].buttons["resume"].click()
    assert action.args == ["download", "gpt-oss-20b"]


def test_progress_shows_speed_and_time_left(qtbot):
    panel = ModelsPanel()
    qtbot.addWidget(panel)
    panel.set_models([info()], {}, {"gpt-oss-20b": "download"}, None)
    panel.show_progress(Progress("gpt-oss-20b", "downloading", "model.safetensors", 1, 2, 5 * GIB, 10 * GIB,
                                 50e6, 120.0))
    card = panel.cards["gpt-oss-20b"]
    assert card.bar.value() == 500
    assert "Downloading: 5.0 GiB of 10.0 GiB" in card.state.text()
    assert "47.7 MiB/s" in card.state.text() and "about 2 min left" in card.state.text()
