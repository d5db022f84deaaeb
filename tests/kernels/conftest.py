"""Kernel tests run the Triton kernels on CPU tensors through Triton's interpreter.

TRITON_INTERPRET is read when a kernel is decorated, i.e. when kernels/_*_triton.py is
first imported. This file sets it, imports those modules (so they are decorated for the
interpreter), and restores the environment at once: the other folders' tests, and the
subprocesses they start, never see the variable. Each test here sees it again through a
fixture, since kernels.target asks the environment whether CPU tensors may run kernels.
The compile check runs in a subprocess with the variable removed.
"""

import importlib
import os
import sys

import pytest

_PRIVATE = ("kernels._mxfp4_triton", "kernels._moe_triton", "kernels._attention_triton")


def _import_interpreted() -> None:
    already = [name for name in _PRIVATE if name in sys.modules]
    if already and not os.environ.get("TRITON_INTERPRET"):
        raise RuntimeError(f"{already} were imported before TRITON_INTERPRET was set: the kernel tests would try "
                           "to launch on a GPU. Import the kernels' private modules only through the public ops.")
    before = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        for name in _PRIVATE:
            importlib.import_module(name)
    finally:
        if before is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = before


_import_interpreted()


@pytest.fixture(autouse=True)
def _interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")


def _single_threaded_blas() -> None:
    """The interpreter runs each tl.dot as a small numpy matmul; OpenBLAS threads for them
    fight torch's thread pool on a 2-core machine and triple the CPU time of these tests.
    numpy was imported before this file (by other test folders), so OPENBLAS_NUM_THREADS
    would come too late: ask the loaded library directly. Speed only; nothing to do if
    numpy links another BLAS."""
    import ctypes
    import glob
    from pathlib import Path

    import numpy

    libs = Path(numpy.__file__).parent.parent / "numpy.libs"
    for path in glob.glob(str(libs / "libscipy_openblas*.so*")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return


_single_threaded_blas()
