"""Resumable, verified model downloads from the Hugging Face hub.

`download(store, model_id, progress=, pause=, cancel=)` fetches the root-format files of a
catalogue model into `<models_dir>/.downloads/<id>/` and, once every file matches the checksum
the hub publishes, moves the folder into place with one rename.

Why not `hf_hub_download`: it resumes only within one call; a new process starts each file again
from byte 0. Here the hub's metadata comes through `huggingface_hub` (`HfApi.model_info`, which
honours `HF_ENDPOINT`, `HF_TOKEN` and proxy variables) and each file is fetched with ranged GETs on
its resolve URL through the library's own HTTP session, appending to `<file>.part`. A later run,
in any process, continues at the size of the `.part` file; the commit is pinned in `state.json`
so the pieces always belong to the same revision.

Control:
- `pause` (threading.Event) or a pause-request file (`download_state.request_pause`, used by
  `hearth models pause` from another process) stops at the next chunk, keeps everything and
  returns "paused".
- `cancel` (threading.Event) stops and removes the partial download, then raises `Cancelled`.
- Network errors, 408/429/5xx and stalls (no byte for `stall_timeout` s) are retried with
  exponential backoff; the progress callback gets a "retrying" event with a sentence.
Offline mode raises `OfflineMode`, and a policy that turns downloads off `PolicyForbids`,
before anything touches the network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from core.engine import catalogue
from core.engine.parts import THE_MODELS, capital, file_part
from core.errors import Cancelled, DiskFull, DownloadFailed, ModelNotFound, OfflineMode
from core.store.disk import CHUNK, check_space, check_writable, disk_full
from core.store.download_state import (
    PAUSE_NAME,
    STATE_NAME,
    DownloadState,
    RemoteFile,
    download_lock,
    read_state,
    write_state,
)
from core.store.model_files import FileRecord, Manifest, inspect_checkpoint, load_check, sha256_file
from core.store.progress import ProgressCallback, ProgressMeter
from core.store.records import StoreView

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # consecutive failures with no byte received before giving up
    base_delay: float = 1.0  # seconds before the first retry; doubles each time
    max_delay: float = 60.0
    connect_timeout: float = 20.0
    stall_timeout: float = 60.0  # a connection that sends nothing for this long is dropped


@dataclass(frozen=True)
class DownloadOutcome:
    model_id: str
    status: str  # "installed" or "paused"
    path: Path | None  # the installed folder, when installed
    fetched_bytes: int  # bytes this run received from the network


class _Retryable(Exception):
    """A failure worth retrying after a pause: the server's 5xx/429, a dropped or short transfer.
    `wrong_data`: what arrived cannot be kept (more bytes than the file has, a restart from
    zero), so the bytes it brought are no progress and the try counts against the limit."""

    def __init__(self, reason: str, wrong_data: bool = False):
        super().__init__(reason)
        self.wrong_data = wrong_data


class _HubChanged(Exception):
    """The model's files changed on the hub since the download started: go on with `state`."""

    def __init__(self, state: DownloadState):
        self.state = state


MAX_HUB_CHANGES = 3  # a hub that changes under every try is given up on
KEPT_TRY_LATER = "What was downloaded is kept; try again later to go on from there."


class _Stop(Exception):
    def __init__(self, cancelled: bool):
        self.cancelled = cancelled


def _hub():
    """huggingface_hub, set to send nothing beyond the requests Hearth makes.

    With telemetry on, building request headers fetches an "agent harnesses" registry from the
    library's default endpoint (a connection to a host the user did not ask for); Hearth
    promises no traffic but the files asked for, so that is switched off, whatever was imported first.
    """
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import huggingface_hub
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True
    return huggingface_hub


def download(
    store: StoreView,
    model_id: str,
    progress: ProgressCallback | None = None,
    pause: threading.Event | None = None,
    cancel: threading.Event | None = None,
) -> DownloadOutcome:
    """Downloads (or continues downloading) a catalogue model; returns when installed or paused.

    Raises PolicyForbids (the organisation turned downloads off), OfflineMode, ModelNotFound
    (unknown id, or not on the hub), FolderNotWritable, DiskFull, DownloadFailed
    (network gave up, checksum mismatch: the bad file is deleted, the rest kept), Cancelled.
    """
    entry = catalogue.entry(model_id)
    store.policy.check_download()
    if store.offline:
        raise OfflineMode("Offline mode is on, so Hearth downloads nothing.",
                          advice="Turn offline mode off to download, or import the model from a folder.")
    if store.is_installed(model_id):
        return DownloadOutcome(model_id, "installed", store.path(model_id), 0)
    check_writable(store.models_dir, f"Downloading {model_id}")
    partial = store.partial_dir(model_id)
    partial.mkdir(parents=True, exist_ok=True)
    lock = download_lock(store.models_dir, model_id)
    if not lock.acquire():
        raise DownloadFailed(f"{model_id} is already being downloaded by another Hearth window or terminal.")
    try:
        (partial / PAUSE_NAME).unlink(missing_ok=True)
        return _Run(store, entry, partial, progress, pause, cancel).run()
    finally:
        lock.release()


class _Run:
    def __init__(self, store, entry, partial: Path, progress, pause, cancel):
        self.store = store
        self.entry = entry
        self.partial = partial
        self.progress = progress
        self.pause = pause or threading.Event()
        self.cancel = cancel or threading.Event()
        self.policy = store.retry
        self.fetched = 0
        self._next_pause_check = 0.0

    # -- the phases -------------------------------------------------------------------
    def run(self) -> DownloadOutcome:
        model_id = self.entry.id
        try:
            # Sized by the catalogue's estimate until the hub has told the real sizes.
            self.meter = ProgressMeter(model_id, self.entry.download_bytes, self.progress)
            self.meter.emit(force=True, phase="preparing")
            state = read_state(self.partial) or self._fetch_state()
            for changes in range(MAX_HUB_CHANGES + 1):
                try:
                    self._fetch_all(state)
                    break
                except _HubChanged as change:
                    if changes == MAX_HUB_CHANGES:
                        raise DownloadFailed(f"The files of {model_id} keep changing on the hub, so the download "
                                             "stopped.", advice=KEPT_TRY_LATER) from None
                    state = change.state
            path = self._finish(state)
        except _Stop as stop:
            if stop.cancelled:
                shutil.rmtree(self.partial, ignore_errors=True)
                message = f"The download of {model_id} was cancelled; its partial files are gone."
                raise Cancelled(message) from None
            self.meter.emit(force=True, phase="paused")
            return DownloadOutcome(model_id, "paused", None, self.fetched)
        self.meter.emit(force=True, phase="done")
        return DownloadOutcome(model_id, "installed", path, self.fetched)

    def _fetch_all(self, state: DownloadState) -> None:
        total = sum(f.size for f in state.files)
        have = sum(self._bytes_on_disk(f) for f in state.files)
        self.meter.total, self.meter.done = total, have
        self._check_disk(total - have)
        for f in state.files:
            if not (self.partial / f.path).is_file():
                self._fetch_verified(state, f)

    def _fetch_state(self) -> DownloadState:
        state = self._remote_state()
        write_state(self.partial, state)
        return state

    def _check_hub(self, state: DownloadState) -> None:
        """After a file came back missing (404) or with other bytes than its checksum: if the
        model changed on the hub since `state` was read (a new commit, or new bytes under the
        same one), keeps the files that did not change, deletes the others and raises
        _HubChanged to go on against the hub's current files. Returns when nothing changed."""
        current = self._remote_state()
        if current == state:
            return
        now = {f.path: f for f in current.files}
        stale = [f for f in state.files if now.get(f.path) != f]
        for f in stale:
            (self.partial / f.path).unlink(missing_ok=True)
            (self.partial / (f.path + ".part")).unlink(missing_ok=True)
        write_state(self.partial, current)
        changed = [f.path for f in stale if f.path in now] + [p for p in now if p not in {f.path for f in state.files}]
        self.meter.emit(force=True, phase="retrying", message=(
            f"{self.entry.id} changed on the hub since this download started (now version {current.commit[:7]}): "
            f"{len(changed)} of its files are downloaded again, the other files are kept."))
        raise _HubChanged(current)

    def _remote_state(self) -> DownloadState:
        hub = _hub()
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

        api = hub.HfApi(endpoint=self.store.endpoint, token=self.store.token)
        repo = self.entry.repo
        info = None
        for attempt in self._attempts("reading the model's file list"):
            with attempt:
                try:
                    info = api.model_info(
                        repo, revision="main", files_metadata=True, timeout=self.policy.connect_timeout
                    )
                except RepositoryNotFoundError:
                    raise ModelNotFound(
                        f"The hub has no model {repo} (or it needs a token you do not have)."
                    ) from None
                except HfHubHTTPError as e:
                    code = e.response.status_code if e.response is not None else None
                    if code in RETRY_STATUS:
                        attempt.retry(f"the hub answered with error {code}")
                    raise DownloadFailed(f"The hub refused the request for {repo} (error {code}).") from None
            if info is not None:
                break
        files = tuple(
            RemoteFile(
                s.rfilename,
                s.lfs.size if s.lfs else s.size,
                s.lfs.sha256 if s.lfs else None,
                None if s.lfs else s.blob_id,
            )
            for s in info.siblings or []
            if catalogue.is_root_format_file(s.rfilename)
        )
        if not any(f.path.endswith(".safetensors") for f in files) or any(f.size is None for f in files):
            raise DownloadFailed(f"The hub's file list for {repo} is incomplete, so nothing was downloaded.")
        return DownloadState(self.entry.id, repo, info.sha, files)

    def _bytes_on_disk(self, f: RemoteFile) -> int:
        for name in (f.path, f.path + ".part"):
            p = self.partial / name
            if p.is_file():
                return min(p.stat().st_size, f.size)
        return 0

    def _check_disk(self, remaining: int) -> None:
        check_space(self.store.models_dir, remaining, f"Downloading {self.entry.id}",
                    "Free some space or choose another models folder.")

    def _fetch_verified(self, state: DownloadState, f: RemoteFile) -> None:
        message = ""
        # One automatic second try: a damaged transfer is usually a one-off.
        for tries_left in (1, 0):
            digest = self._fetch(state, f)
            if digest == (f.sha256 or f.git_oid):
                os.replace(self.partial / (f.path + ".part"), self.partial / f.path)
                return
            (self.partial / (f.path + ".part")).unlink(missing_ok=True)
            self.meter.rewind_file()
            self._check_hub(state)  # new bytes published since: no second try of the old ones could match
            message = (f"{capital(file_part(f.path, THE_MODELS))} arrived damaged (its checksum is not the one the "
                       "hub publishes), so it was deleted.")
            if tries_left:
                self.meter.emit(force=True, phase="retrying", message=message + " Downloading it again.")
        raise DownloadFailed(message, advice="The other files are kept; downloading again fetches only this one.",
                             details=f"{f.path}: SHA-256 differs from the hub's")

    def _finish(self, state: DownloadState) -> Path:
        self.meter.emit(force=True, phase="verifying")
        records = []
        for f in state.files:
            # LFS files were checked against the hub's SHA-256 while they arrived; the small
            # ones against their git blob id, so hashing them again here costs next to nothing.
            sha = f.sha256 or sha256_file(self.partial / f.path)
            records.append(FileRecord(f.path, f.size, sha))
        layout = inspect_checkpoint(self.partial)
        manifest = Manifest(state.catalogue_id, state.repo, state.commit, layout.format, tuple(records))
        manifest.write(self.partial)
        if self.store.load_check:
            load_check(self.partial)
        (self.partial / STATE_NAME).unlink(missing_ok=True)
        (self.partial / PAUSE_NAME).unlink(missing_ok=True)
        target = self.store.model_dir(self.entry.id)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # left by an interrupted registration; rename cannot replace it
        os.replace(self.partial, target)
        return target

    # -- one file ---------------------------------------------------------------------
    def _fetch(self, state: DownloadState, f: RemoteFile) -> str:
        """Brings `<file>.part` to its full size; returns its digest (sha256 or git blob id)."""
        hub = _hub()
        from huggingface_hub.utils import build_hf_headers, get_session

        part = self.partial / (f.path + ".part")
        url = hub.hf_hub_url(state.repo, f.path, revision=state.commit, endpoint=self.store.endpoint)
        headers = build_hf_headers(token=self.store.token)
        # Sizes and ranges must count the bytes on disk, not compressed ones.
        headers["Accept-Encoding"] = "identity"
        timeout = httpx2.Timeout(self.policy.stall_timeout, connect=self.policy.connect_timeout)
        hasher, hashed = None, -1
        self.meter.start_file(f.path, f.size, self._bytes_on_disk(f))
        for attempt in self._attempts(f"downloading {f.path}"):
            offset = part.stat().st_size if part.exists() else 0
            if offset > f.size:
                part.unlink()
                offset = 0
            if hashed != offset:
                if offset:  # bytes from an earlier run: re-read them once to continue the checksum
                    self.meter.emit(force=True, phase="verifying")
                hasher, hashed = self._hash_prefix(f, part), offset
                self.meter.emit(force=True, phase="downloading")
            if offset == f.size:
                part.touch()  # an empty file has no bytes to fetch but must still exist
                return hasher.hexdigest()
            with attempt:
                request_headers = {**headers, "Range": f"bytes={offset}-"} if offset else headers
                with get_session().stream("GET", url, headers=request_headers, timeout=timeout) as r:
                    if r.status_code == 416 or (offset and r.status_code == 200):
                        # The server cannot continue from our offset: start this file again.
                        part.unlink(missing_ok=True)
                        self.meter.rewind_file()
                        hasher, hashed = self._hash_prefix(f, part), 0
                        if r.status_code == 416:
                            attempt.retry("the server could not continue the file; starting it again", wrong_data=True)
                    if r.status_code in RETRY_STATUS:
                        attempt.retry(f"the server answered with error {r.status_code}")
                    if r.status_code in (404, 410):  # the version this download started from is gone
                        self._check_hub(state)
                    if r.status_code >= 400:
                        raise DownloadFailed(f"The hub refused to send {file_part(f.path, THE_MODELS)} (error "
                                             f"{r.status_code}).", details=f"GET {f.path}: {r.status_code}")
                    part.parent.mkdir(parents=True, exist_ok=True)
                    with open(part, "ab") as out:
                        for chunk in r.iter_bytes():  # as the data arrives, so pause is prompt
                            self._write(out, chunk, f)
                            hasher.update(chunk)
                            hashed += len(chunk)
                            attempt.made_progress()
                            self._poll_stop()
                if part.stat().st_size < f.size:
                    attempt.retry("the connection closed before the end of the file")
        raise AssertionError("unreachable: _attempts raises when it runs out")

    def _hash_prefix(self, f: RemoteFile, part: Path):
        hasher = hashlib.sha256() if f.sha256 else hashlib.sha1(f"blob {f.size}\0".encode())
        if part.exists():
            with open(part, "rb") as src:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    self._poll_stop()
        return hasher

    def _write(self, out, chunk: bytes, f: RemoteFile) -> None:
        try:
            out.write(chunk)
        except OSError as e:
            if disk_full(e):
                raise DiskFull(f"The disk holding {self.store.models_dir} is full; what was downloaded is kept.",
                               advice="Free some space and resume the download.") from None
            raise DownloadFailed(f"Hearth could not write {file_part(f.path, THE_MODELS)} to disk ({e.strerror}).",
                                 details=f"{f.path}: {e}") from None
        if out.tell() > f.size:
            raise _Retryable("the server sent more bytes than the file has", wrong_data=True)
        self.fetched += len(chunk)
        self.meter.advance(len(chunk))

    # -- stopping and retrying --------------------------------------------------------
    def _poll_stop(self) -> None:
        if self.cancel.is_set():
            raise _Stop(cancelled=True)
        if self.pause.is_set():
            raise _Stop(cancelled=False)
        now = time.monotonic()
        if now >= self._next_pause_check:
            # Another process (`hearth models pause`) asks through a file; a stat 4x a second is free.
            self._next_pause_check = now + 0.25
            if (self.partial / PAUSE_NAME).exists():
                (self.partial / PAUSE_NAME).unlink(missing_ok=True)
                raise _Stop(cancelled=False)

    def _attempts(self, what: str):
        """Yields `_Attempt` context managers until the caller stops; backs off after failed ones."""
        failures = 0
        while True:
            attempt = _Attempt()
            yield attempt
            if attempt.error is None:
                continue
            # A try that brought good bytes starts the count again (a long download on a flaky line
            # goes on); one whose bytes had to be thrown away counts, so a server that always sends
            # too much is given up on instead of being downloaded from again forever.
            failures = 1 if attempt.progressed and not attempt.wrong_data else failures + 1
            if failures >= self.policy.attempts:
                raise DownloadFailed(f"The download of {self.entry.id} stopped after {failures} tries, because "
                                     f"{attempt.error}.", advice=KEPT_TRY_LATER,
                                     details="; ".join(filter(None, (f"gave up {what}", attempt.details))))
            delay = min(self.policy.max_delay, self.policy.base_delay * 2 ** (failures - 1))
            self.meter.emit(
                force=True,
                phase="retrying",
                message=f"Network problem: {attempt.error}. Retrying in {delay:.0f} s "
                f"(try {failures + 1} of {self.policy.attempts}).",
            )
            deadline = time.monotonic() + delay
            while (left := deadline - time.monotonic()) > 0:
                self._poll_stop()
                self.cancel.wait(min(left, 0.1))
            self._poll_stop()
            self.meter.emit(force=True, phase="downloading")


# httpx's transport errors, as a person would put them.
_TRANSPORT_WORDS = {
    "ConnectError": "Hearth could not connect to the hub (is this computer online?)",
    "ReadError": "the connection broke off",
    "WriteError": "the connection broke off",
    "RemoteProtocolError": "the hub closed the connection",
}


class _Attempt:
    """One network try: swallows retryable errors (recording them) and lets the others through."""

    def __init__(self):
        self.error: str | None = None
        self.details = ""  # the exception behind `error`, for the details
        self.progressed = False
        self.wrong_data = False

    def made_progress(self) -> None:
        self.progressed = True

    def retry(self, reason: str, wrong_data: bool = False):
        raise _Retryable(reason, wrong_data)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, httpx2.UnsupportedProtocol | httpx2.ProxyError):
            # Settings, not the network: trying again cannot help.
            raise DownloadFailed("Hearth cannot reach the hub with these settings: check the hub's address (a "
                                 "mirror) and the proxy.", details=f"{type(exc).__name__}: {exc}") from None
        if isinstance(exc, _Retryable):
            self.error, self.wrong_data = str(exc), exc.wrong_data
        elif isinstance(exc, httpx2.TimeoutException):
            self.error = "the connection stalled"
        elif isinstance(exc, httpx2.TransportError):
            # The exception's class ("ConnectError") is for the details, not the sentence.
            self.error = _TRANSPORT_WORDS.get(type(exc).__name__, "the connection failed")
        else:
            return False
        if not isinstance(exc, _Retryable):
            self.details = f"{type(exc).__name__}: {exc}"
        return True
