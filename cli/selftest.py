"""`hearth self-test` (also `hearth --self-test`): proves a build works on this machine.

Run by the installer build on every bundle before it is called good, and by a person or an
administrator after installing. In order: every Hearth module imports; a tiny random
gpt-oss checkpoint is written to a temporary folder, loaded, and answers a few tokens
through `core.chat.generate`; the document library indexes a PDF, a Word file and a web page
written on the spot and finds a fact in each (PDFium's native library, python-docx, selectolax
and SQLite's FTS5 all travel with a build); the python tool's sandboxed worker starts (in a
bundle: the bundle's own program, `--hearth-python-worker`), keeps a variable between two calls
and imports numpy; the main window and the About dialog render offscreen; where the
build carries Triton with a pre-built cache, the launcher and every kernel are found in it.
The egress guard is on from the first line, and the test fails if anything tried to reach
the network. The test writes nothing outside its temporary folder (the CUDA bundle's start-up
copies its kernel cache to the user's cache folder, as at every start). Exit 0: all passed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cli import exit_codes

PACKAGES = ("core", "kernels", "desktop", "cli", "resources")
GENERATED_TOKENS = 6


class SelfTestFailed(Exception):
    pass


def register(subparsers) -> None:
    parser = subparsers.add_parser("self-test", help="check that this installation works (offline, ~30 s)")
    parser.add_argument("--screenshot", metavar="PNG", help="also save the rendered main window here")
    parser.set_defaults(func=run)


def run(args) -> int:
    # First, before any library can open a connection: refuse and count every attempt off the machine,
    # and count every Internet socket created at all (even a refused one shows intent).
    from core.system import egress

    guard = egress.install(offline=True)
    inet_sockets: list[str] = []

    def audit(event: str, event_args: tuple) -> None:
        if event == "socket.__new__" and len(event_args) > 1 and event_args[1] in (socket.AF_INET, socket.AF_INET6):
            inet_sockets.append(f"family {event_args[1]}, type {event_args[2]}")

    sys.addaudithook(audit)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the window renders without a screen
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hearth-self-test-") as tmp:
        steps: list[tuple[str, Callable[[], str]]] = [
            ("imports", check_imports),
            ("cpu kernels", check_cpu_kernels),
            ("model", lambda: check_generation(Path(tmp))),
            ("documents", lambda: check_documents(Path(tmp))),
            ("python tool", lambda: check_python_tool(Path(tmp))),
            ("window", lambda: check_window(Path(tmp), args.screenshot)),
            ("triton", lambda: check_triton_cache(Path(tmp))),
        ]
        for name, step in steps:
            try:
                detail = step()
            except Exception as failure:  # report which step broke and how, then stop
                print(f"FAIL {name}: {type(failure).__name__}: {failure}", flush=True)
                return exit_codes.FAILED
            print(f"ok   {name}: {detail}", flush=True)
    if guard.blocked or inet_sockets:
        print(f"FAIL network: {guard.blocked} blocked connection attempts {[str(a) for a in guard.log()]}, "
              f"{len(inet_sockets)} Internet sockets created", flush=True)
        return exit_codes.FAILED
    print("ok   network: no connection attempted, no Internet socket created", flush=True)
    print(f"self-test passed in {time.perf_counter() - started:.1f} s", flush=True)
    return exit_codes.OK


def check_imports() -> str:
    """Every module of Hearth imports: a frozen build that left one out fails here, not in use."""
    triton_here = importlib.util.find_spec("triton") is not None
    imported, without_triton = 0, []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as missing:
                # The CPU-only bundle leaves Triton out on purpose; its kernel modules are the only
                # ones allowed to miss it, and only when Triton is absent altogether.
                if triton_here or not (missing.name or "").startswith("triton"):
                    raise
                without_triton.append(info.name)
                continue
            imported += 1
    from desktop.widgets.about_dialog import hearth_version

    version = hearth_version()
    if version.startswith("unknown"):
        raise SelfTestFailed("the program's version is unknown: its package metadata is missing")
    note = f"; {len(without_triton)} Triton kernel modules skipped (no Triton in this build)" if without_triton else ""
    return f"Hearth {version}, {imported} modules{note}"


def check_cpu_kernels() -> str:
    """Which processor path answers: the bundle ships the compiled kernels, so there they must load."""
    from kernels import _cpu

    if getattr(sys, "frozen", False) and _cpu.available() is None:
        raise SelfTestFailed(_cpu.describe())
    return _cpu.describe()


def check_generation(tmp: Path) -> str:
    """A tiny checkpoint with the full vocabulary: written, loaded, and answering greedily."""
    from core import load_model
    from core.chat.events import Finished
    from core.chat.generate import GenerationSettings, generate
    from core.chat.tokenizer import load_tokenizer
    from core.engine.sampling import SamplingParams
    from core.engine.testing import tiny_config, write_checkpoint

    folder = write_checkpoint(tmp / "tiny-model", tiny_config(vocab_size=201088), seed=0)
    model = load_model(folder)
    tokenizer = load_tokenizer(folder)  # no tokenizer files there: the vocabulary shipped with Hearth
    settings = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=GENERATED_TOKENS)
    events = list(generate(model.new_session(), tokenizer, [{"role": "user", "content": "Hello"}],
                           settings=settings, current_date="2025-06-28"))
    finished = events[-1]
    if not isinstance(finished, Finished) or finished.error or finished.generated_tokens < 1:
        raise SelfTestFailed(f"generation did not finish cleanly: {finished}")
    return (f"{finished.prompt_tokens} prompt tokens, {finished.generated_tokens} generated "
            f"({finished.reason}) on the {model.device.type.upper()}")


def check_documents(tmp: Path) -> str:
    """A PDF (the fact on its second page), a Word file and a web page: indexed, and each fact found."""
    from core.docs.library import Library
    from core.docs.samples import make_docx, make_pdf

    folder = tmp / "documents-in"
    folder.mkdir()
    make_pdf(folder / "harbour.pdf", [["Harbour rules"], ["The harbour gate closes at 21:40 on Sundays."]])
    make_docx(folder / "handbook.docx", "The pump in building nine is serviced every March.")
    (folder / "visitors.html").write_text("<html><body><h1>Parking</h1><p>Visitors park behind the greenhouse."
                                          "</p></body></html>", encoding="utf-8")
    library = Library(tmp / "documents-index")
    summary = library.add(folder)
    if summary.skipped or summary.documents != 3:
        raise SelfTestFailed(" ".join(summary.sentences()))
    found = {}
    for query, name in (("harbour gate", "harbour.pdf"), ("pump serviced", "handbook.docx"),
                        ("park greenhouse", "visitors.html")):
        hits = library.search(query)
        if not hits or hits[0].path.name != name:
            raise SelfTestFailed(f"searching {query!r} did not find {name} (found {[h.path.name for h in hits]})")
        found[name] = hits[0]
    if found["harbour.pdf"].page != 2:
        raise SelfTestFailed(f"the PDF's fact was placed on page {found['harbour.pdf'].page}, not 2")
    trigram = "with" if library.trigram else "without"
    return f"PDF, Word and HTML indexed and each fact found; SQLite FTS5 {trigram} trigram"


def check_python_tool(tmp: Path) -> str:
    """The model's python tool: its worker starts isolated, keeps state, has numpy. Where this
    system allows no isolation at all the tool is unavailable by design: said, not failed."""
    from core.sandbox.errors import SandboxUnavailable
    from core.sandbox.tool import PythonTool

    with PythonTool(scratch=tmp / "python-data") as tool:
        try:
            isolation = tool.start()
        except SandboxUnavailable as why:
            return f"not available on this system ({why})"
        first = tool.call("import numpy\nx = numpy.arange(4)\nprint(int(x.sum()))")
        second = tool.call("print(int(x.max()))")
    if first.strip() != "6" or second.strip() != "3":
        raise SelfTestFailed(f"the sandboxed Python answered {first!r} and {second!r}, not '6' and '3'")
    return f"two calls kept their state, numpy imported; {isolation.summary()}"


def check_window(tmp: Path, screenshot: str | None) -> str:
    """The real main window and the About dialog, built and painted offscreen."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.store.model_store import ModelStore
    from desktop import theme
    from desktop.app import create_app
    from desktop.history import History
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from desktop.widgets.about_dialog import AboutDialog

    app = create_app(["hearth"])
    settings = Settings(tmp / "settings.ini")  # never the user's own settings or history
    settings.models_dir = str(tmp / "models")
    theme.apply_theme(app, settings.theme)
    history = History(tmp / "history.sqlite3")
    # The document library too: never the user's own, and gone with the temporary folder.
    window = MainWindow(settings, history, ModelStore(tmp / "models", offline=True), library_dir=tmp / "documents")
    try:
        window.show()
        # Let the hardware probe and the first layout settle inside a real event loop: pumping
        # QCoreApplication.processEvents(flags, ms) by hand here aborted with PySide6 6.12's
        # "none_dealloc: deallocating None".
        QTimer.singleShot(1000, app.quit)
        app.exec()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 200 or image.height() < 200:
            raise SelfTestFailed(f"the window rendered as a {image.width()}x{image.height()} image")
        colours = distinct_colours(image)
        if colours < 3:
            raise SelfTestFailed("the window rendered blank")
        if screenshot:
            image.save(screenshot)
        about = AboutDialog(window)
        named = {item.name for item in about.items}
        missing = {"Hearth", "Python", "torch", "PySide6_Essentials"} - named
        if missing or not all(item.texts for item in about.items if item.name in ("Hearth", "torch")):
            raise SelfTestFailed(f"the About dialog lacks components or licence texts: {sorted(missing)}")
        about.grab()
        about.close()
    finally:
        window.close()  # stops the worker threads
        history.close()
        QApplication.processEvents()
    return f"{image.width()}x{image.height()} window, {colours} colours; About lists {len(named)} components"


def distinct_colours(image) -> int:
    """How many colours a QImage holds (a blank or failed paint has one or two)."""
    from PySide6.QtGui import QImage

    # One buffer read instead of a Python call per pixel: a whole window is about a million pixels.
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    data = bytes(rgb.constBits())
    return len({data[i:i + 4] for i in range(0, len(data), 4)})


def check_triton_cache(tmp: Path) -> str:
    """In a build with Triton and a pre-built cache: the CUDA launcher and every kernel the
    engine launches, for every GPU generation served, are found there, so a user's machine
    needs no compiler and the first answer waits for no compilation."""
    if importlib.util.find_spec("triton") is None:
        return "not in this build (CPU only)"
    bundled = bundled_triton_cache()
    if bundled is None:
        return "Triton present, no pre-built cache in this build"
    # Look-ups on a copy, so a miss shows as a new entry and never lands in the user's cache.
    cache = tmp / "triton-cache"
    shutil.copytree(bundled, cache)
    os.environ["TRITON_CACHE_DIR"] = str(cache)
    if not launcher_cached():
        raise SelfTestFailed("the CUDA launcher (cuda_utils) is not in the bundled Triton cache")
    from kernels.compile_check import SHAPES, engine_launches
    from kernels.target import CUDA_TARGETS, compile_for

    before = set(os.listdir(cache))
    count = 0
    for model in SHAPES:
        for capability in CUDA_TARGETS:
            for _label, launch in engine_launches(SHAPES[model]):
                compile_for(launch, capability)
                count += 1
    missed = set(os.listdir(cache)) - before
    if missed:
        raise SelfTestFailed(f"{len(missed)} of {count} kernel compilations were not in the bundled cache")
    return (f"launcher pre-built; {count} kernel launches for sm_{', sm_'.join(map(str, CUDA_TARGETS))} "
            "all found in the bundled cache")


def bundled_triton_cache() -> Path | None:
    """The Triton cache the installer pre-built and shipped beside the program, if any."""
    frozen = getattr(sys, "_MEIPASS", None)
    path = Path(frozen) / "triton-cache" if frozen else None
    return path if path is not None and path.is_dir() else None


def launcher_cached() -> bool:
    """Whether Triton would find its CUDA launcher module in TRITON_CACHE_DIR instead of
    building it with a C compiler: the same key as `triton.runtime.build.compile_module_from_src`."""
    import hashlib
    import sysconfig

    from triton.backends.nvidia import driver
    from triton.runtime.build import platform_key
    from triton.runtime.cache import get_cache_manager

    source = Path(driver.dirname, "driver.c").read_text()
    key = hashlib.sha256((source + platform_key()).encode("utf-8")).hexdigest()
    return get_cache_manager(key).get_file(f"cuda_utils{sysconfig.get_config_var('EXT_SUFFIX')}") is not None
