"""Hardware panel, first-launch screen, status bar, banner, model switcher, dialogs."""

import pytest
from PySide6.QtWidgets import QGroupBox, QLabel

from core.chat.events import Finished
from core.sandbox import Isolation
from core.system.hardware import CPU, GPU, Hardware, Recommendation, plan_fit
from core.units import size_text
from desktop.settings import Settings
from desktop.widgets.error_banner import ErrorBanner
from desktop.widgets.first_launch import FirstLaunch
from desktop.widgets.hardware_panel import CHECKING_PYTHON, HardwarePanel
from desktop.widgets.instructions_dialog import InstructionsDialog
from desktop.widgets.model_switcher import ModelSwitcher
from desktop.widgets.settings_dialog import SettingsDialog
from desktop.widgets.status_bar import StatusBar

GIB = 1024**3
CARD = GPU(0, "NVIDIA RTX 4090", 24 * GIB, 23 * GIB, (8, 9), "550.54")
MACHINE = Hardware(gpus=(CARD,), cpu=CPU("Ryzen 9", 16, 32, ("avx2", "fma")), ram_total_bytes=64 * GIB,
                   ram_available_bytes=48 * GIB, disk_free_bytes=500 * GIB)


def texts(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def test_hardware_panel_shows_the_machine_and_the_verdicts(qtbot):
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    plans = {m: plan_fit(m, MACHINE) for m in ("gpt-oss-20b", "gpt-oss-120b")}
    panel.set_hardware(MACHINE, plans)
    shown = texts(panel)
    assert "NVIDIA RTX 4090" in shown and "driver 550.54" in shown
    assert "Ryzen 9, 16 cores (32 threads)" in shown and "avx2" in shown
    assert "64.0 GiB in all" in shown and "500.0 GiB free" in shown
    assert "Runs on your graphics card" in shown  # 20b on a 24 GB card
    assert plans["gpt-oss-120b"].reason in shown and "Too big for this computer" in shown
    # Refreshing replaces, never duplicates.
    qtbot.wait(1)
    before = len(panel.findChildren(QLabel))
    panel.set_hardware(MACHINE, plans)
    qtbot.wait(1)
    assert len(panel.findChildren(QLabel)) == before


@pytest.mark.parametrize(("isolation", "words"), [
    (Isolation("namespace", ("user and network namespace", "seccomp filter (no sockets)", "Landlock ABI 7 (…)")),
     "Sandboxed — no network, and no access to your files outside its scratch folder."),
    (Isolation("seccomp", ("seccomp filter (no sockets)",), ("no Landlock (this kernel has no Landlock): …",)),
     "Sandboxed — no network, but it can still read and change your files: this version of Linux cannot fence "
     "them off (it lacks Landlock)."),
    (Isolation("sandbox-exec", ("sandbox-exec profile (…)",), tested=False),
     "Sandboxed — no network, and it can change files only in its scratch folder (it can still read your "
     "files). This kind of sandbox has not been tested on this system yet."),
])
def test_hardware_panel_says_what_run_python_may_do(qtbot, isolation, words):
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    assert panel.python.text() == CHECKING_PYTHON
    panel.set_sandbox(isolation)
    assert panel.python.text() == words and panel.python.toolTip() == isolation.summary()
    panel.set_hardware(MACHINE, {})  # the machine read again leaves the row alone
    assert panel.python.text() == words
    panel.set_sandbox_unavailable("This Mac has no sandbox-exec, so Python cannot be kept off the network.")
    assert panel.python.text() == ("Unavailable — Hearth could not cut the model's Python off from the network "
                                   "here, so it never runs it. This Mac has no sandbox-exec, so Python cannot be "
                                   "kept off the network.")


def test_a_models_memory_is_one_figure_in_one_unit_on_every_page(qtbot):
    from core.engine.catalogue import CATALOGUE
    from core.store.records import ModelInfo
    from desktop.widgets.help_dialog import GETTING_STARTED
    from desktop.widgets.model_card import ModelCard

    plans = {m: plan_fit(m, MACHINE) for m in ("gpt-oss-20b", "gpt-oss-120b")}
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.set_hardware(MACHINE, plans)
    for model_id, plan in plans.items():
        e = CATALOGUE[model_id]
        card = ModelCard(ModelInfo(model_id, e.repo, e.description, "available", None, 0, e.download_bytes))
        qtbot.addWidget(card)
        card.update_info(card.info, plan, None, False)
        needed = size_text(plan.needed_bytes)
        # Once: "needs a graphics card with 80 GB of memory" on Models, 62.9 GiB on Hardware.
        assert card.memory.text().startswith(f"Needs {needed} of memory")
        box = next(b for b in panel.fits.findChildren(QGroupBox) if b.title() == model_id)
        assert texts(box).count(needed) >= 1 and needed in plan.reason
        shown = " ".join([card.description.text(), card.memory.text(), card.state.text(), texts(box)])
        assert " GB" not in shown and " MB" not in shown
    assert card.memory.text() == ("Needs 62.9 GiB of memory, for 8,192 tokens of conversation.")
    assert "(12.8 GiB)" in GETTING_STARTED and "(60.8 GiB)" in GETTING_STARTED


def test_hardware_panel_without_a_gpu(qtbot):
    panel = HardwarePanel()
    qtbot.addWidget(panel)
    panel.set_hardware(Hardware((), MACHINE.cpu, 8 * GIB, 6 * GIB, None), {})
    assert "No NVIDIA graphics card" in texts(panel) and "unknown" in texts(panel)


def test_first_launch_offers_the_recommended_model(qtbot):
    screen = FirstLaunch()
    qtbot.addWidget(screen)
    assert not screen.download_button.isEnabled()  # until the machine has been read
    screen.set_recommendation(Recommendation("gpt-oss-20b", None, "gpt-oss-20b on the graphics card."), 13_762_000_000)
    assert screen.download_button.text() == "Download gpt-oss-20b (12.8 GiB)"
    assert screen.recommendation.text() == "gpt-oss-20b on the graphics card."
    with qtbot.waitSignal(screen.download_requested) as requested:
        screen.download_button.click()
    assert requested.args == ["gpt-oss-20b"]
    screen.set_recommendation(Recommendation(None, None, "This computer is too small for gpt-oss."))
    assert not screen.download_button.isEnabled() and not screen.import_button.isHidden()


def test_status_bar(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    assert bar.model_label.text() == "No model loaded"
    bar.set_loading("gpt-oss-20b")
    assert bar.model_label.text() == "Loading gpt-oss-20b…"
    bar.set_loading("gpt-oss-20b", 45)
    assert bar.model_label.text() == "Loading gpt-oss-20b… 45%"
    bar.show_note("Loading cancelled")
    assert bar.currentMessage() == "Loading cancelled"
    bar.set_model("gpt-oss-20b", "cuda:0", 131072)
    assert bar.device_label.text() == "on the graphics card"
    bar.show_finished(Finished("stop", 1000, 0, 310, 500.0, 12.34, 0.5))
    assert bar.speed_label.text() == "12.3 tokens/s"
    assert bar.context_label.text() == "Context: 1,310 of 131,072 tokens (1%)"


def test_banner_action_and_dismiss(qtbot):
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    assert banner.isHidden()  # nothing to say yet
    banner.show_message("The file is damaged.", "error", ("Open Models", "models"))
    assert banner.isVisible() and banner.property("kind") == "error"
    with qtbot.waitSignal(banner.action_triggered) as triggered:
        banner.action_button.click()
    assert triggered.args == ["models"] and banner.isHidden()
    banner.show_message("Loaded.", "info")
    assert banner.action_button.isHidden()
    banner.close_button.click()
    assert banner.isHidden()  # nothing to say yet


def test_banner_keeps_technical_details_behind_a_button(qtbot):
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    banner.show_message("Part 1 of 2 of the model's weights is damaged.", "error", None,
                        "model-00001-of-00002.safetensors: 12 stray bytes follow its last tensor")
    assert banner.text() == "Part 1 of 2 of the model's weights is damaged."
    assert banner.details_button.isVisible() and not banner.details_label.isVisible()
    banner.details_button.click()
    assert banner.details_label.isVisible() and "stray bytes" in banner.details_label.text()
    banner.show_message("Something else.", "error")  # the next message starts folded, without details
    assert not banner.details_button.isVisible() and not banner.details_label.isVisible()


def test_model_switcher(qtbot):
    switcher = ModelSwitcher()
    qtbot.addWidget(switcher)
    switcher.show()
    assert switcher.button.text() == "No model installed"
    switcher.set_models(["gpt-oss-20b", "gpt-oss-120b"], "gpt-oss-20b")
    checked = [a.text() for a in switcher.menu.actions() if a.isChecked()]
    assert checked == ["gpt-oss-20b"] and switcher.button.text() == "gpt-oss-20b"
    # The whole name fits beside the menu arrow.
    assert switcher.button.width() >= switcher.button.fontMetrics().horizontalAdvance("gpt-oss-20b") + 40
    with qtbot.waitSignal(switcher.model_chosen) as chosen:
        next(a for a in switcher.menu.actions() if a.text() == "gpt-oss-120b").trigger()
    assert chosen.args == ["gpt-oss-120b"]
    switcher.set_loading("gpt-oss-120b")
    assert switcher.cancel_button.isVisible() and not switcher.button.isEnabled()
    assert switcher.bar.maximum() == 0  # busy until the load first says how far it is
    switcher.set_progress(45)
    assert (switcher.bar.maximum(), switcher.bar.value()) == (100, 45)
    assert switcher.loading_label.text() == "Loading gpt-oss-120b… 45%"
    switcher.set_loading("gpt-oss-120b")  # the window's state refreshed: the bar keeps its place
    assert switcher.bar.value() == 45
    with qtbot.waitSignal(switcher.cancel_requested):
        switcher.cancel_button.click()
    switcher.set_loading(None)
    assert not switcher.cancel_button.isVisible() and switcher.button.isEnabled()
    switcher.set_loading("gpt-oss-20b")  # the next load starts over
    assert switcher.bar.maximum() == 0 and switcher.loading_label.text() == "Loading gpt-oss-20b…"


def test_settings_dialog_saves_every_field(qtbot, tmp_path):
    settings = Settings(tmp_path / "s.ini")
    dialog = SettingsDialog(settings, "/default/models")
    qtbot.addWidget(dialog)
    assert dialog.models_dir.placeholderText() == "/default/models"
    dialog.models_dir.setText(str(tmp_path / "m"))
    dialog.offline.setChecked(True)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.effort.setCurrentIndex(dialog.effort.findData("low"))
    dialog.temperature.setValue(0.7)
    dialog.top_p.setValue(0.9)
    dialog.max_tokens.setValue(1000)
    assert dialog.thinking_limit.text() == "No limit" and settings.generation("low").reasoning_budget is None
    dialog.thinking_limit.setValue(512)
    dialog.save()
    again = Settings(tmp_path / "s.ini")
    assert (again.models_dir, again.offline, again.theme, again.reasoning_effort) == (
        str(tmp_path / "m"), True, "dark", "low")
    assert (round(again.temperature, 2), round(again.top_p, 2), again.max_new_tokens) == (0.7, 0.9, 1000)
    # The thinking limit reaches the core with every answer.
    assert again.reasoning_budget == 512 and again.generation("low").reasoning_budget == 512


def test_settings_call_things_by_the_chats_names_and_in_plain_words(qtbot, tmp_path):
    from desktop.widgets.effort_selector import EffortSelector

    dialog = SettingsDialog(Settings(tmp_path / "s.ini"), "/default/models")
    qtbot.addWidget(dialog)
    selector = EffortSelector()
    qtbot.addWidget(selector)
    # Once: "Low / Medium / High" here, "Think briefly / normally / hard" beside the message box.
    assert [dialog.effort.itemText(i) for i in range(dialog.effort.count())] == [
        selector.itemText(i) for i in range(selector.count())]
    assert [dialog.effort.itemData(i) for i in range(dialog.effort.count())] == ["low", "medium", "high"]
    label = dialog.form.labelForField
    assert label(dialog.effort).text() == "Thinking for new chats:"
    assert label(dialog.temperature).text() == "Word variety (temperature):"
    assert label(dialog.top_p).text() == "Words to choose from (top-p):"
    assert dialog.temperature.accessibleName() == "Temperature" and dialog.top_p.accessibleName() == "Top-p"
    assert "likeliest word" in dialog.temperature.toolTip() and "every word" in dialog.top_p.toolTip()


def test_instructions_dialog(qtbot):
    dialog = InstructionsDialog("Be brief")
    qtbot.addWidget(dialog)
    assert dialog.edit.toPlainText() == "Be brief"
    dialog.edit.setPlainText("  Answer in French \n")
    assert dialog.instructions() == "Answer in French"
