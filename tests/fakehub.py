"""A fake Hugging Face hub on 127.0.0.1 for tests: the endpoints and headers `huggingface_hub`
uses, serving tiny repositories from memory, with faults on demand. Core-independent.

Endpoints (as on the real hub):
- GET  /api/models/{repo}[/revision/{rev}]  model info; with `?blobs=true` each sibling has size,
  blobId and, for LFS files, lfs {sha256, size, pointerSize}.
- GET  /api/models/{repo}/tree/{rev}[/{folder}][?recursive=true] and
  POST /api/models/{repo}/paths-info/{rev} (form `paths=`): entries with oid, size, lfs {oid=sha256}.
- HEAD/GET /{repo}/resolve/{rev}/{path}  small files: 200 with ETag = git blob id; LFS files:
  302 to /cdn/... with X-Linked-Etag (sha256) and X-Linked-Size. Both carry X-Repo-Commit.
- GET  /cdn/{repo}/{path}  the LFS bytes; honours `Range: bytes=N-` with 206 + Content-Range.

Faults (each consumed by the next matching requests; `path` matches a file path exactly):
`fail(path, status, times)`, `fail_api(status, times)`, `stall(path, after_bytes, times)` (sends
that much, then goes silent until `stall_seconds` pass or the hub stops), `drop(path, after_bytes,
times)` (closes the connection), `corrupt(path, times)` (flips a byte of the body).
`throttle_bps` slows every body so a test can interrupt a transfer midway.

`hub.log` records every request (method, file path, Range header, status, body bytes sent).
Use as a context manager: `with FakeHub([repo]) as hub: ... hub.url ...`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

BODY_CHUNK = 16 * 1024


@dataclass
class Request:
    method: str
    path: str  # file path inside the repo, or the API path
    range: str | None
    status: int = 0
    sent: int = 0
    authorization: str | None = None
    host: str = "hub"  # or "cdn": which of the two origins answered


class FakeRepo:
    def __init__(self, repo_id: str, files: dict[str, bytes], lfs: set[str] | None = None, commit: str | None = None):
        self.repo_id = repo_id
        self.files = dict(files)
        self.lfs = lfs if lfs is not None else {p for p in files if p.endswith(".safetensors")}
        self.commit = commit or hashlib.sha1((repo_id + "".join(sorted(files))).encode()).hexdigest()

    def git_oid(self, path: str) -> str:
        data = self.files[path]
        return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()

    def sha256(self, path: str) -> str:
        return hashlib.sha256(self.files[path]).hexdigest()

    def sibling(self, path: str) -> dict:
        data = self.files[path]
        sibling = {"rfilename": path, "size": len(data), "blobId": self.git_oid(path)}
        if path in self.lfs:
            sibling["size"] = 134  # the hub lists the pointer's size here, the real one under lfs
            sibling["lfs"] = {"sha256": self.sha256(path), "size": len(data), "pointerSize": 134}
        return sibling


@dataclass
class _Fault:
    kind: str
    times: int
    status: int = 0
    after: int = 0


@dataclass
class FakeHub:
    repos: list[FakeRepo]
    throttle_bps: float | None = None
    stall_seconds: float = 5.0
    log: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._faults: dict[str, list[_Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------
    def __enter__(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        # Two origins, as on the real hub: LFS files redirect to a CDN host, and huggingface_hub
        # reads their metadata from the redirect itself instead of following it.
        self._servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
        for server in self._servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    @property
    def url(self) -> str:
        host, port = self._servers[0].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def cdn_url(self) -> str:
        host, port = self._servers[1].server_address[:2]
        return f"http://{host}:{port}"

    # -- faults -----------------------------------------------------------------------
    def fail(self, path: str, status: int, times: int = 1) -> None:
        self._add(path, _Fault("fail", times, status=status))

    def fail_api(self, status: int, times: int = 1) -> None:
        self._add("<api>", _Fault("fail", times, status=status))

    def stall(self, path: str, after_bytes: int, times: int = 1) -> None:
        self._add(path, _Fault("stall", times, after=after_bytes))

    def drop(self, path: str, after_bytes: int, times: int = 1) -> None:
        self._add(path, _Fault("drop", times, after=after_bytes))

    def corrupt(self, path: str, times: int = 1) -> None:
        self._add(path, _Fault("corrupt", times))

    def oversize(self, path: str, extra_bytes: int, times: int = 1) -> None:
        """Sends `extra_bytes` more than the file has (a broken mirror or proxy)."""
        self._add(path, _Fault("oversize", times, after=extra_bytes))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, key: str, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(key, []).append(fault)

    def _take(self, key: str, kinds: tuple[str, ...]) -> _Fault | None:
        with self._lock:
            for fault in self._faults.get(key, []):
                if fault.kind in kinds and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # -- what tests ask ---------------------------------------------------------------
    def requests_for(self, path: str, method: str = "GET", redirects: bool = False) -> list[Request]:
        """Requests for one file; by default without the hub's 302s to the CDN (no body)."""
        with self._lock:
            return [
                r for r in self.log
                if r.path == path and r.method == method and (redirects or r.status != 302)
            ]

    def bytes_sent(self, path: str) -> int:
        return sum(r.sent for r in self.requests_for(path))

    def paths_requested(self) -> set[str]:
        with self._lock:
            return {r.path for r in self.log if not r.path.startswith("api/")}

    def repo(self, repo_id: str) -> FakeRepo | None:
        return next((r for r in self.repos if r.repo_id == repo_id), None)


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        try:
            if parts[:2] == ["api", "models"]:
                self._api(method, parts[2:])
            elif parts[0] == "cdn":
                self._cdn(method, parts[1:])
            elif len(parts) >= 5 and parts[2] == "resolve":
                self._resolve(method, "/".join(parts[:2]), parts[3], "/".join(parts[4:]))
            else:
                self._reply(method, url.path, 404, b'{"error": "not found"}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away: normal when a test interrupts a download

    def _record(self, method: str, path: str) -> Request:
        host = "cdn" if self.server is self.hub._servers[1] else "hub"
        request = Request(method, path, self.headers.get("Range"), authorization=self.headers.get("Authorization"),
                          host=host)
        with self.hub._lock:
            self.hub.log.append(request)
        return request

    def _reply(self, method, path, status, body=b"", headers=None, record=None):
        record = record or self._record(method, path)
        record.status = status
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)
            record.sent = len(body)

    def _api(self, method: str, parts: list[str]) -> None:
        repo_id = "/".join(parts[:2])
        repo = self.hub.repo(repo_id)
        fault = self.hub._take("<api>", ("fail",))
        if fault:
            return self._reply(method, "api/" + repo_id, fault.status, b'{"error": "server error"}')
        if repo is None:
            # The hub answers an unknown repo with 401 and this error code header.
            return self._reply(method, "api/" + repo_id, 401, b'{"error": "Repository not found"}',
                               {"X-Error-Code": "RepoNotFound"})
        if len(parts) >= 4 and parts[2] in ("tree", "paths-info"):
            return self._listing(method, repo, parts[2], "/".join(parts[4:]))
        with_blobs = "blobs=true" in (urlsplit(self.path).query or "")
        siblings = [repo.sibling(p) if with_blobs else {"rfilename": p} for p in sorted(repo.files)]
        info = {"_id": "fake", "id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": False,
                "siblings": siblings}
        self._reply(method, "api/" + repo_id, 200, json.dumps(info).encode(),
                    {"Content-Type": "application/json"})

    def _listing(self, method: str, repo: FakeRepo, kind: str, folder: str) -> None:
        """`tree/{rev}/{folder}` (GET, `recursive=`) and `paths-info/{rev}` (POST, form `paths=`)."""
        if kind == "paths-info":
            length = int(self.headers.get("Content-Length") or 0)
            wanted = parse_qs(self.rfile.read(length).decode()).get("paths", [])
        else:
            recursive = "recursive=true" in (urlsplit(self.path).query or "").lower()
            prefix = folder + "/" if folder else ""
            below = {p[len(prefix):] for p in repo.files if p.startswith(prefix)}
            wanted = sorted({prefix + (p if recursive else p.split("/")[0]) for p in below})
            if recursive:  # the folders themselves are listed too
                wanted = sorted(set(wanted) | {prefix + "/".join(p.split("/")[: i + 1])
                                                for p in below for i in range(p.count("/"))})
        entries = [self._entry(repo, p) for p in wanted]
        self._reply(method, f"api/{repo.repo_id}/{kind}", 200, json.dumps([e for e in entries if e]).encode(),
                    {"Content-Type": "application/json"})

    @staticmethod
    def _entry(repo: FakeRepo, path: str) -> dict | None:
        if path in repo.files:
            entry = {"type": "file", "oid": repo.git_oid(path), "size": len(repo.files[path]), "path": path}
            if path in repo.lfs:
                entry["lfs"] = {"oid": repo.sha256(path), "size": len(repo.files[path]), "pointerSize": 134}
            return entry
        if any(p.startswith(path + "/") for p in repo.files):
            return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "path": path}
        return None

    def _resolve(self, method: str, repo_id: str, rev: str, path: str) -> None:
        repo = self.hub.repo(repo_id)
        if repo is None or path not in repo.files or rev not in ("main", repo.commit):
            return self._reply(method, path, 404, b"Entry not found", {"X-Error-Code": "EntryNotFound"})
        common = {"X-Repo-Commit": repo.commit, "Accept-Ranges": "bytes"}
        if path in repo.lfs:
            location = f"{self.hub.cdn_url}/cdn/{quote(repo_id)}/{quote(path)}"
            headers = {**common, "Location": location, "X-Linked-Etag": f'"{repo.sha256(path)}"',
                       "X-Linked-Size": str(len(repo.files[path])), "ETag": f'"{repo.git_oid(path)}"'}
            return self._reply(method, path, 302, b"", headers)
        self._send_file(method, repo, path, {**common, "ETag": f'"{repo.git_oid(path)}"'})

    def _cdn(self, method: str, parts: list[str]) -> None:
        repo = self.hub.repo("/".join(parts[:2]))
        path = "/".join(parts[2:])
        if repo is None or path not in repo.files:
            return self._reply(method, path, 404, b"Not found")
        self._send_file(method, repo, path, {"ETag": f'"{repo.sha256(path)}"', "Accept-Ranges": "bytes"})

    def _send_file(self, method: str, repo: FakeRepo, path: str, headers: dict) -> None:
        hub = self.hub
        record = self._record(method, path)
        fault = hub._take(path, ("fail",)) if method == "GET" else None
        if fault:
            return self._reply(method, path, fault.status, b"server error", record=record)
        data = repo.files[path]
        start = 0
        status = 200
        if (rng := self.headers.get("Range")) and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= len(data):
                return self._reply(method, path, 416, b"", {"Content-Range": f"bytes */{len(data)}"}, record)
            status = 206
            headers = {**headers, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
        body = data[start:]
        if method == "GET" and hub._take(path, ("corrupt",)):
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        if method == "GET" and (extra := hub._take(path, ("oversize",))):
            body = body + b"\0" * extra.after
        stall = hub._take(path, ("stall", "drop")) if method == "GET" else None
        record.status = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if stall and stall.kind == "drop":
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "GET":
            return
        for i in range(0, len(body), BODY_CHUNK):
            piece = body[i : i + BODY_CHUNK]
            if stall and record.sent + len(piece) > stall.after:
                piece = piece[: max(stall.after - record.sent, 0)]
                self.wfile.write(piece)
                self.wfile.flush()
                record.sent += len(piece)
                if stall.kind == "stall":
                    hub._stopping.wait(hub.stall_seconds)
                self.close_connection = True
                return
            self.wfile.write(piece)
            record.sent += len(piece)
            if hub.throttle_bps:
                self.wfile.flush()
                time.sleep(len(piece) / hub.throttle_bps)
            if hub._stopping.is_set():
                self.close_connection = True
                return
