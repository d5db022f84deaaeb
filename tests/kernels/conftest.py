"""Kernel tests run the Triton kernels on CPU tensors through Triton's interpreter.

TRITON_INTERPRET is read when a kernel is decorated, i.e. when kernels/_*_triton.py is
first imported; the public ops import those lazily, so setting it here, before any test
module of this folder runs, is early enough. Other test folders never import them (the
CPU engine uses the torch backend), so they are unaffected. The compile check runs in a
subprocess with the variable removed.
"""

import os
import sys

os.environ["TRITON_INTERPRET"] = "1"

_compiled = [name for name in ("kernels._mxfp4_triton", "kernels._moe_triton", "kernels._attention_triton")
             if name in sys.modules]
if _compiled:
    raise RuntimeError(f"{_compiled} were imported before TRITON_INTERPRET was set: the kernel tests would try "
                       "to launch on a GPU. Import the kernels' private modules only through the public ops.")


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
