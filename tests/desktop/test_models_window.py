"""The Models page in the real window: download from the fake hub with progress, pause and
resume, import a folder, export, delete and cancel with confirmation, offline mode's sentence."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from core.store.downloads import RetryPolicy
from core.store.model_store import ModelStore
from core.system.hardware import Recommendation
from tests.desktop.helpers import wait_until
from tests.fakehub import FakeHub, FakeRepo
from tests.model_fixtures import REPO_ID, repo_files

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, connect_timeout=2.0, stall_timeout=1.0)


@pytest.fixture(scope="module")
def files():
    files = repo_files()
    # Without tokenizer.json the shipped vocabulary is used, so the downloaded model loads for real.
    del files["tokenizer.json"]
    return files


@pytest.fixture
def hub(files):
    with FakeHub([FakeRepo(REPO_ID, files)], throttle_bps=150_000) as hub:
        yield hub


@pytest.fixture
def online_store(tmp_path, hub):
    return ModelStore(tmp_path / "models", offline=False, endpoint=hub.url, retry=FAST_RETRY)


def card_of(window, model_id="gpt-oss-20b"):
    return window.models_panel.cards[model_id]


@pytest.mark.slow
def test_download_with_progress_pause_and_resume(qtbot, make_window, online_store, hub):
    window = make_window(store_=online_store)
    assert window.current_page() is window.first_launch
    card = card_of(window)
    assert card.state.text().startswith("Not downloaded")
    assert card.badge.text() and card.badge.toolTip()  # the fit planner's verdict and its reason
    fractions = []
    phases = []
    window.models.jobs.progress.connect(lambda p: (fractions.append(p.fraction), phases.append(p.phase)))
    # From the first-launch screen (its recommendation pinned: the test must not depend on this
    # machine's GPU), which hands over to the Models page where the progress shows.
    window.first_launch.set_recommendation(Recommendation("gpt-oss-20b", None, "gpt-oss-20b suits this computer."))
    window.first_launch.download_button.click()
    assert window.current_page() is window.models_panel
    assert card.buttons["pause"].isVisible() and card.buttons["cancel"].isVisible()
    wait_until(qtbot, lambda: fractions and 0.2 < fractions[-1] < 0.8, timeout=30)
    assert card.bar.value() > 0 and "Downloading" in card.state.text()
    card.buttons["pause"].click()
    wait_until(qtbot, lambda: not window.models.jobs.is_running("gpt-oss-20b"), timeout=30)
    assert online_store.info("gpt-oss-20b").status == "partial"
    assert card.state.text().startswith("Paused") and card.buttons["resume"].isVisible()
    assert "paused" in window.banner.text()
    fetched_before_resume = hub.bytes_sent("model-00001-of-00002.safetensors")

    resumed_at = len(fractions)
    card.buttons["resume"].click()
    wait_until(qtbot, lambda: online_store.is_installed("gpt-oss-20b") and not window.models.jobs._running, timeout=60)
    assert fractions[-1] == 1.0
    # The bar goes on from where it paused, once the resumed run has read its saved state.
    assert min(f for f, p in zip(fractions[resumed_at:], phases[resumed_at:], strict=True) if p != "preparing") > 0.2
    # Resumed, not restarted: the first shard was not sent again from byte 0.
    assert hub.bytes_sent("model-00001-of-00002.safetensors") <= fetched_before_resume + len(
        hub.repos[0].files["model-00001-of-00002.safetensors"])
    assert card.state.text().startswith("Installed")
    # The first installed model is loaded straight away, and the chat page replaces first launch.
    wait_until(qtbot, lambda: window.loaded is not None, timeout=30)
    window.show_page("Chat")
    assert window.current_page() is window.chat_page


@pytest.mark.slow
def test_cancel_a_running_download_keeps_nothing(qtbot, make_window, online_store):
    window = make_window(store_=online_store)
    window.show_page("Models")
    card = card_of(window)
    card.buttons["download"].click()
    wait_until(qtbot, lambda: card.bar.value() > 0, timeout=30)
    card.buttons["cancel"].click()
    wait_until(qtbot, lambda: not window.models.jobs._running, timeout=30)
    assert online_store.info("gpt-oss-20b").status == "available"
    assert card.buttons["download"].isVisible()


def test_import_a_folder_export_and_delete(qtbot, make_window, store, tiny_checkpoint, tmp_path, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tiny_checkpoint))
    # The tiny model's shape names no catalogue model, so the window asks which one it is.
    asked = []
    monkeypatch.setattr(window.models, "choose_model", lambda folder: asked.append(folder) or "gpt-oss-20b")
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: True)
    window.show_page("Models")
    window.models_panel.import_button.click()
    wait_until(qtbot, lambda: store.is_installed("gpt-oss-20b") and not window.models.jobs._running, timeout=60)
    wait_until(qtbot, lambda: window.loaded is not None, timeout=30)
    assert asked == [str(tiny_checkpoint)]
    card = card_of(window)
    assert card.state.text().startswith("Installed") and "in use" in card.state.text()
    assert window.switcher.installed() == ["gpt-oss-20b"]

    dest = tmp_path / "usb"
    dest.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(dest))
    card.buttons["export"].click()
    wait_until(qtbot, lambda: (dest / "gpt-oss-20b" / "hearth-manifest.json").is_file(), timeout=60)
    wait_until(qtbot, lambda: not window.models.jobs._running, timeout=10)

    answers, asked = iter([False, True]), []
    monkeypatch.setattr(window.models, "ask_delete", lambda *question: asked.append(question) or next(answers))
    card.buttons["delete"].click()
    assert store.is_installed("gpt-oss-20b")  # said no
    assert asked[0][:2] == ("gpt-oss-20b", str(store.path("gpt-oss-20b"))) and "This frees" in asked[0][2]
    card.buttons["delete"].click()
    assert not store.is_installed("gpt-oss-20b")
    assert card.state.text().startswith("Not downloaded")
    wait_until(qtbot, lambda: window.loaded is None)
    assert window.status.model_label.text() == "No model loaded"


CHOOSE_ANOTHER = "Choose the folder that holds the model's files, or download the model instead."


def test_importing_a_folder_without_a_model_explains(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(empty))
    asked = []
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: asked.append(folder) or True)
    window.first_launch.import_button.click()
    # Said at once, before "copy it or use it in place?" (once: asked first, then "holds no config.json").
    assert asked == [] and not window.models.jobs.any_running()
    assert window.banner.isVisible() and window.banner.property("kind") == "error"
    assert window.banner.text() == f"This folder does not hold a complete model: the folder is empty. {CHOOSE_ANOTHER}"


def test_importing_a_truncated_model_asks_nothing_and_says_to_choose_another_folder(
        qtbot, make_window, store, tiny_checkpoint, tmp_path, monkeypatch):
    import shutil

    folder = shutil.copytree(tiny_checkpoint, tmp_path / "cut")
    shard = folder / "model-00001-of-00001.safetensors"
    shard.write_bytes(shard.read_bytes()[:-100])  # a copy that did not finish
    window = make_window()
    window.show_page("Models")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    asked = []
    monkeypatch.setattr(window.models, "choose_model", lambda folder: asked.append("which") or "gpt-oss-20b")
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: asked.append("copy") or True)
    window.models_panel.import_button.click()
    assert asked == [] and not window.models.jobs.any_running() and not store.is_installed("gpt-oss-20b")
    # Once: "Open Models, delete this model and download or import it again", on the Models page,
    # about a model that was never imported.
    assert window.banner.text() == (
        "This folder does not hold a complete model: part 1 of 1 of its weights is damaged (it is cut short: the "
        f"download or copy did not finish). {CHOOSE_ANOTHER}")


def test_a_missing_part_is_named_in_plain_words_and_its_technical_name_only_under_details(
        qtbot, make_window, store, tmp_path, monkeypatch):
    from core.engine.testing import random_weights, tiny_config, write_checkpoint
    from tests.desktop.helpers import VOCAB

    config = tiny_config(vocab_size=VOCAB)
    tensors = random_weights(config)
    del tensors["lm_head.weight"]
    folder = write_checkpoint(tmp_path / "no-head", config, tensors=tensors)
    window = make_window()
    window.show_page("Models")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    monkeypatch.setattr(window.models, "choose_model", lambda folder: "gpt-oss-20b")
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: False)
    window.models_panel.import_button.click()  # its files are whole: the engine finds the part missing
    wait_until(qtbot, lambda: window.banner.isVisible() and window.banner.property("kind") == "error", timeout=60)
    assert window.banner.text() == ("This folder does not hold a complete model: its weights lack the output layer. "
                                    f"{CHOOSE_ANOTHER}")
    banner = window.banner
    assert banner.details_button.isVisible() and not banner.details_label.isVisible()
    banner.details_button.click()
    assert banner.details_label.isVisible() and "lm_head.weight" in banner.details_label.text()


def test_offline_mode_says_what_to_do(qtbot, make_window, store):
    window = make_window()  # the default store fixture is offline
    window.show_page("Models")
    card_of(window).buttons["download"].click()
    wait_until(qtbot, lambda: window.banner.isVisible() and window.banner.property("kind") == "error", timeout=30)
    # One sentence (once: the core's "Turn offline mode off to download, or import the model from a
    # folder." and then the window's "Turn offline mode off in Settings to download, or import ...").
    assert window.banner.text() == ("Offline mode is on, so Hearth downloads nothing: turn it off in Settings, "
                                    "or import the model from a folder.")
    window.settings.offline = False
    window.settings.models_dir = str(store.models_dir)
    window.apply_settings()  # once: the refusal stayed on screen after offline mode was turned off
    assert not window.banner.isVisible()


def test_a_failed_download_says_so_once(qtbot, make_window, online_store, hub):
    hub.fail("model-00001-of-00002.safetensors", 502, times=100)
    window = make_window(store_=online_store)
    window.show_page("Models")
    card_of(window).buttons["download"].click()
    wait_until(qtbot, lambda: window.banner.isVisible() and window.banner.property("kind") == "error", timeout=60)
    # Once: "... What was downloaded is kept; try again later to continue. Check the internet
    # connection, then press Resume: what was downloaded is kept."
    assert window.banner.text() == ("The download of gpt-oss-20b stopped after 3 tries, because the server answered "
                                    "with error 502: what was downloaded is kept, and Resume carries on from there.")
    wait_until(qtbot, lambda: not window.models.jobs.any_running(), timeout=30)
    assert card_of(window).buttons["resume"].isVisible()


def test_import_in_place_keeps_the_files_where_they_are(qtbot, make_window, store, tiny_checkpoint, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tiny_checkpoint))
    monkeypatch.setattr(window.models, "choose_model", lambda folder: "gpt-oss-20b")
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: False)
    window.models_panel.import_button.click()
    wait_until(qtbot, lambda: store.is_installed("gpt-oss-20b") and not window.models.jobs.any_running(), timeout=60)
    assert store.path("gpt-oss-20b") == tiny_checkpoint.resolve()
    assert f"(in {tiny_checkpoint.resolve()})" in card_of(window).state.text()


def test_cancelling_the_copy_question_imports_nothing(qtbot, make_window, store, tiny_checkpoint, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tiny_checkpoint))
    monkeypatch.setattr(window.models, "choose_model", lambda folder: "gpt-oss-20b")
    monkeypatch.setattr(window.models, "choose_copy", lambda folder: None)
    window.models_panel.import_button.click()
    assert not window.models.jobs.any_running() and not store.is_installed("gpt-oss-20b")


def click_in_dialog(text: str) -> None:
    """Clicks the button called `text` in the modal dialog about to open (once its loop runs)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def click():
        box = QApplication.activeModalWidget()
        next(b for b in box.buttons() if b.text().replace("&", "") == text).click()

    QTimer.singleShot(0, click)


def test_the_real_questions_return_what_was_clicked(qtbot, make_window):
    window = make_window()
    for text, expected in (("Copy into Hearth", True), ("Use it where it is", False), ("Cancel", None)):
        click_in_dialog(text)
        assert window.models.choose_copy("/media/usb/gpt-oss-20b") is expected
    click_in_dialog("Yes")
    assert window.models.confirm("Delete gpt-oss-20b?", "This frees 12.8 GiB.") is True
    click_in_dialog("No")
    assert window.models.confirm("Delete gpt-oss-20b?", "This frees 12.8 GiB.") is False


def test_a_model_with_a_damaged_manifest_is_shown_as_damaged_and_can_be_deleted(qtbot, make_window, store,
                                                                               tiny_checkpoint, monkeypatch):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=True)
    (store.model_dir("gpt-oss-20b") / "hearth-manifest.json").write_text('{"files": [')  # cut off mid-write
    window = make_window()  # once: the window aborted listing the models
    window.show_page("Models")
    card = card_of(window)
    wait_until(qtbot, lambda: card.state.text().startswith("Damaged"))
    assert card.buttons["delete"].isVisibleTo(window) and not card.buttons["use"].isVisibleTo(window)
    monkeypatch.setattr(window.models, "ask_delete", lambda *_: True)
    card.buttons["delete"].click()
    wait_until(qtbot, lambda: card.state.text().startswith("Not downloaded"))
    assert not store.model_dir("gpt-oss-20b").exists()


def test_a_download_too_big_for_this_computer_or_its_disk_asks_first_with_the_numbers(qtbot, make_window,
                                                                                     monkeypatch):
    import dataclasses

    window = make_window()
    wait_until(qtbot, lambda: window.models.hardware is not None and window.models.plans)
    models = window.models
    plan = models.plans["gpt-oss-120b"]
    models.plans["gpt-oss-120b"] = dataclasses.replace(plan, verdict="does-not-fit", reason="It needs 62.9 GiB.")
    models.hardware = dataclasses.replace(models.hardware, disk_free_bytes=10 * 2**30)
    started, asked = [], []
    monkeypatch.setattr(models.jobs, "download", started.append)
    answers = iter([False, True])
    monkeypatch.setattr(models, "confirm", lambda question, detail: asked.append((question, detail)) or next(answers))
    models.download("gpt-oss-120b")  # once: it started at one click
    assert started == [] and asked[0][0] == "Download gpt-oss-120b anyway?"
    assert "too big for this computer: It needs 62.9 GiB." in asked[0][1] and "only 10.0 GiB is free" in asked[0][1]
    models.download("gpt-oss-120b")
    assert started == ["gpt-oss-120b"]


def test_the_model_in_use_keeps_its_fit_badge_when_free_memory_shrinks(qtbot, make_window):
    import dataclasses

    window = make_window()
    models = window.models
    wait_until(qtbot, lambda: models.hardware is not None and models.plans)
    assert models.plans["gpt-oss-20b"].fits
    before = models.plans["gpt-oss-20b"]
    models.set_current("gpt-oss-20b")
    squeezed = dataclasses.replace(models.hardware, ram_available_bytes=2**20)  # its own pages now "used"
    models.on_hardware(squeezed)  # once: the badge flipped to "Too big for this computer"
    assert models.plans["gpt-oss-20b"] == before
    models.set_current(None)
    models.on_hardware(squeezed)
    assert not models.plans["gpt-oss-20b"].fits  # a model not in use is judged by what is free


def test_notices_go_by_themselves_and_problems_stay(qtbot, make_window, monkeypatch):
    from desktop.widgets import error_banner

    monkeypatch.setattr(error_banner, "INFO_SECONDS", 0.2)
    window = make_window()
    window.show_info("gpt-oss-20b was imported and is ready.")  # once: it never went away
    assert window.banner.isVisible()
    wait_until(qtbot, lambda: not window.banner.isVisible(), timeout=5)
    window.show_problem("Something went wrong.")
    qtbot.wait(400)
    assert window.banner.isVisible()
    window.models.info.emit("The download of gpt-oss-120b is paused. Press Resume to go on.")
    monkeypatch.setattr(window.models, "confirm", lambda *_: False)
    window.models.cancel("gpt-oss-120b")  # once: "press Resume" stayed with no Resume button left
    assert not window.banner.isVisible()
