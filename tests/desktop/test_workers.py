"""The workers on their own threads: inference (batched events, failures as sentences, stop,
load progress, cancelled loads and the model they leave), model jobs (import, verify of a
damaged model) and the background call."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.chat.events import Finished, PromptProgress, TextDelta
from core.chat.generate import GenerationSettings
from core.engine.sampling import SamplingParams
from core.errors import Cancelled, CorruptCheckpoint, NotEnoughMemory
from desktop.workers.background import BackgroundCall
from desktop.workers.download import ModelJobs
from desktop.workers.inference import InferenceThread, InferenceWorker, keeps_previous
from desktop.workers.requests import ChatRequest, LoadRequest
from tests.desktop.helpers import scripted_loader, wait_until


class Receiver(QObject):
    """GUI-thread slots for the worker's signals, as the window has (never lambdas)."""

    load = Signal(object, int)
    generate = Signal(object)

    def __init__(self):
        super().__init__()
        self.batches, self.loaded, self.failures, self.cancelled = [], [], [], 0
        self.progress: list[tuple[int, int]] = []
        self.threads: set[QThread] = set()

    @Slot(list)
    def on_events(self, batch):
        self.threads.add(QThread.currentThread())
        self.batches.append(batch)

    @Slot(int, int)
    def on_progress(self, token, percent):
        self.threads.add(QThread.currentThread())
        self.progress.append((token, percent))

    @Slot(object)
    def on_loaded(self, loaded):
        self.loaded.append(loaded)

    @Slot(str)
    def on_failure(self, sentence):
        self.failures.append(sentence)

    @Slot()
    def on_cancelled(self):
        self.cancelled += 1


def start(worker: InferenceWorker):
    receiver = Receiver()
    thread = InferenceThread(worker)
    receiver.load.connect(worker.load)
    receiver.generate.connect(worker.generate)
    worker.events.connect(receiver.on_events)
    worker.load_progress.connect(receiver.on_progress)
    worker.loaded.connect(receiver.on_loaded)
    worker.load_failed.connect(receiver.on_failure)
    worker.generation_failed.connect(receiver.on_failure)
    worker.load_cancelled.connect(receiver.on_cancelled)
    return receiver, thread


REQUEST = ChatRequest([{"role": "user", "content": "Hi"}], GenerationSettings(SamplingParams(temperature=0.0),
                                                                         max_new_tokens=400))


def test_events_arrive_in_order_on_the_gui_thread(qtbot):
    receiver, thread = start(InferenceWorker(load_fn=scripted_loader()))
    try:
        receiver.load.emit(LoadRequest("m", Path("/nowhere")), thread.worker.next_load_token())
        wait_until(qtbot, lambda: receiver.loaded)
        receiver.generate.emit(REQUEST)
        wait_until(qtbot, lambda: any(isinstance(e, Finished) for batch in receiver.batches for e in batch))
        events = [e for batch in receiver.batches for e in batch]
        assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
        assert "".join(e.text for e in events if isinstance(e, TextDelta) and e.channel == "final").startswith(
            "Hello!")
        assert receiver.threads == {QThread.currentThread()}
        assert len(receiver.batches) < len(events)  # batched, not one signal per token
    finally:
        thread.shutdown()


def test_reading_progress_is_sent_at_once_not_held_for_the_next_event(qtbot):
    # The next event after a reading step may be seconds away: the step must not wait in a batch.
    release = threading.Event()

    def reading(_engine, _request, _stop):
        yield PromptProgress(256, 1024)
        release.wait(10)
        yield PromptProgress(1024, 1024)
        yield Finished("stop", 1024, 0, 0, 100.0, 0.0, 1.0)

    receiver, thread = start(InferenceWorker(load_fn=scripted_loader(), generate_fn=reading))
    try:
        receiver.load.emit(LoadRequest("m", Path("/nowhere")), thread.worker.next_load_token())
        wait_until(qtbot, lambda: receiver.loaded)
        receiver.generate.emit(REQUEST)
        wait_until(qtbot, lambda: receiver.batches)
        assert receiver.batches == [[PromptProgress(256, 1024)]] and not release.is_set()
        release.set()
        wait_until(qtbot, lambda: isinstance(receiver.batches[-1][-1], Finished))
    finally:
        release.set()
        thread.shutdown()


def test_generating_without_a_model_says_what_to_do(qtbot):
    receiver, thread = start(InferenceWorker(load_fn=scripted_loader()))
    try:
        receiver.generate.emit(REQUEST)
        wait_until(qtbot, lambda: receiver.failures)
        assert receiver.failures == ["No model is loaded. Choose one from the Model menu first."]
    finally:
        thread.shutdown()


def test_load_errors_become_sentences_with_a_next_step(qtbot):
    def too_big(_request, _progress, _cancel):
        raise NotEnoughMemory("This model needs 80.0 GiB but the computer has only 16.0 GiB of memory (RAM).")

    receiver, thread = start(InferenceWorker(load_fn=too_big))
    try:
        receiver.load.emit(LoadRequest("m", Path("/x")), thread.worker.next_load_token())
        wait_until(qtbot, lambda: receiver.failures)
        assert receiver.failures[0].startswith("This model needs 80.0 GiB")
        assert "Choose a smaller model" in receiver.failures[0]
    finally:
        thread.shutdown()


def test_a_cancelled_load_is_dropped_when_it_arrives(qtbot):
    release = threading.Event()
    real = scripted_loader()

    def slow(request, progress, cancel):
        release.wait(10)
        return real(request, progress, cancel)

    receiver, thread = start(InferenceWorker(load_fn=slow))
    try:
        token = thread.worker.next_load_token()
        receiver.load.emit(LoadRequest("m", Path("/x")), token)
        thread.worker.cancel_load(token)
        release.set()
        wait_until(qtbot, lambda: receiver.cancelled)
        assert receiver.loaded == [] and thread.worker._engine is None
    finally:
        thread.shutdown()


def test_load_progress_arrives_once_per_percent_on_the_gui_thread(qtbot):
    real = scripted_loader()

    def counting(request, progress, cancel):
        for step in range(1, 1001):  # a model of a thousand tensors
            progress(step / 1000)
        return real(request, progress, cancel)

    receiver, thread = start(InferenceWorker(load_fn=counting))
    try:
        token = thread.worker.next_load_token()
        receiver.load.emit(LoadRequest("m", Path("/x")), token)
        wait_until(qtbot, lambda: receiver.loaded)
        assert receiver.progress == [(token, p) for p in range(101)]
        assert receiver.threads == {QThread.currentThread()}
    finally:
        thread.shutdown()


def test_cancel_reaches_the_running_load_and_keeps_the_previous_model(qtbot):
    real, started = scripted_loader(), threading.Event()

    def load(request, progress, cancel):
        if request.model_id == "b":
            started.set()
            if cancel.wait(10):  # as core.engine.model does between two tensors
                raise Cancelled("Loading the model was stopped.")
        return real(request, progress, cancel)

    receiver, thread = start(InferenceWorker(load_fn=load))
    try:
        worker = thread.worker
        receiver.load.emit(LoadRequest("a", Path("/x")), worker.next_load_token())
        wait_until(qtbot, lambda: receiver.loaded)
        engine = worker._engine
        token = worker.next_load_token()
        receiver.load.emit(LoadRequest("b", Path("/x")), token)
        wait_until(qtbot, started.is_set)
        worker.cancel_load(token)  # from this (the GUI) thread, while the worker is busy
        wait_until(qtbot, lambda: receiver.cancelled, timeout=5)
        assert worker._engine is engine and receiver.failures == [] and len(receiver.loaded) == 1
    finally:
        thread.shutdown()


def test_a_load_cancelled_while_queued_or_failing_leaves_the_loaded_model_alone(qtbot):
    real = scripted_loader()

    def load(request, progress, cancel):
        if request.model_id == "broken":
            raise CorruptCheckpoint("The model's files are damaged.")
        return real(request, progress, cancel)

    receiver, thread = start(InferenceWorker(load_fn=load))
    try:
        worker = thread.worker
        receiver.load.emit(LoadRequest("a", Path("/x")), worker.next_load_token())
        wait_until(qtbot, lambda: receiver.loaded)
        engine = worker._engine
        token = worker.next_load_token()
        worker.cancel_load(token)
        receiver.load.emit(LoadRequest("b", Path("/x")), token)
        wait_until(qtbot, lambda: receiver.cancelled)
        receiver.load.emit(LoadRequest("broken", Path("/x")), worker.next_load_token())
        wait_until(qtbot, lambda: receiver.failures)
        assert worker._engine is engine and len(receiver.loaded) == 1
    finally:
        thread.shutdown()


def test_only_a_graphics_card_drops_the_previous_model_first():
    assert keeps_previous("cpu", "cpu") and keeps_previous("cuda:0", "cpu") and keeps_previous("cpu", "cuda:0")
    assert not keeps_previous("cuda:0", "cuda:0")


def test_model_jobs_import_and_report_a_damaged_model(qtbot, store, tiny_checkpoint, tmp_path):
    import shutil

    copy = shutil.copytree(tiny_checkpoint, tmp_path / "copy")
    jobs = ModelJobs(store)
    succeeded, failed, progress = [], [], []
    jobs.succeeded.connect(lambda m, o: succeeded.append((m, o)))
    jobs.failed.connect(lambda m, s: failed.append((m, s)))
    jobs.progress.connect(progress.append)
    jobs.import_folder(str(copy), model_id="gpt-oss-20b")
    wait_until(qtbot, lambda: succeeded and not jobs._running, timeout=60)
    assert succeeded == [("gpt-oss-20b", "imported")]
    assert progress and progress[-1].phase == "done"
    shard = next(store.path("gpt-oss-20b").glob("model-*.safetensors"))
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    jobs.verify("gpt-oss-20b")
    wait_until(qtbot, lambda: failed and not jobs._running, timeout=60)
    assert "damaged" in failed[0][1] and "delete this model and download or import it again" in failed[0][1]


def test_an_import_that_fails_on_a_damaged_file_says_to_choose_another_folder(qtbot, store, tiny_checkpoint,
                                                                             tmp_path):
    import dataclasses
    import shutil

    from core.store.model_files import FileRecord, Manifest, inspect_checkpoint, sha256_file

    copy = shutil.copytree(tiny_checkpoint, tmp_path / "export")
    files = inspect_checkpoint(copy).files
    records = [FileRecord(f, (copy / f).stat().st_size, sha256_file(copy / f)) for f in files]
    records[-1] = dataclasses.replace(records[-1], sha256="0" * 64)  # the shard no longer matches its record
    Manifest("gpt-oss-20b", "openai/gpt-oss-20b", None, "hf", tuple(records)).write(copy)
    jobs = ModelJobs(store)
    failed = []
    jobs.failed.connect(lambda m, s: failed.append(s))
    jobs.import_folder(str(copy))
    wait_until(qtbot, lambda: failed and not jobs._running, timeout=60)
    assert failed[0].startswith("This folder does not hold a complete model: part 1 of 1 of its weights is damaged")
    assert failed[0].endswith("Choose the folder that holds the model's files, or download the model instead.")
    assert not store.is_installed("gpt-oss-20b")


def test_background_call(qtbot):
    call = BackgroundCall(lambda: QThread.currentThread())
    with qtbot.waitSignal(call.done) as done:
        call.start()
    assert done.args[0] is not QThread.currentThread()
    call.wait()

    def broken():
        raise CorruptCheckpoint("model-00001.safetensors is truncated.")

    failing = BackgroundCall(broken)
    with qtbot.waitSignal(failing.failed) as failed:
        failing.start()
    assert failed.args[0].startswith("model-00001.safetensors is truncated.")
    failing.wait()


def test_the_model_runs_at_a_lower_priority_than_the_window(qtbot):
    import os
    import sys

    linux = sys.platform.startswith("linux")
    seen = []
    real = scripted_loader()

    def load(request, progress, cancel):
        # Linux: the thread's nice value (inherited by torch's compute threads); elsewhere Qt's.
        tid = threading.get_native_id()
        seen.append(os.getpriority(os.PRIO_PROCESS, tid) if linux else QThread.currentThread().priority())
        return real(request, progress, cancel)

    receiver, thread = start(InferenceWorker(load_fn=load))
    try:
        receiver.load.emit(LoadRequest("m", Path("/x")), thread.worker.next_load_token())
        wait_until(qtbot, lambda: receiver.loaded)
        if linux:
            window = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            assert seen == [min(window + 5, 19)]
        else:
            assert seen == [QThread.Priority.LowPriority]
    finally:
        thread.shutdown()
