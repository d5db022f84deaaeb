"""Pre-builds Triton's CUDA launcher module into a Triton cache, on a machine with no GPU:
`python installer/prebuild_triton_launcher.py CACHE_DIR`.

On first use on a GPU, Triton compiles `triton/backends/nvidia/driver.c` with the machine's C
compiler into `cuda_utils*.so` and keeps it in its cache under sha256(source + platform); a
user's machine has no compiler, so the build does it and ships the result. The module links
against the NVIDIA driver's libcuda.so.1, which a build machine without a GPU lacks: it links
against a stub of the same soname exporting the symbols driver.c calls, so the real driver
library is the one loaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    os.environ["TRITON_CACHE_DIR"] = str(Path(argv[0]).resolve())
    from triton.backends.nvidia import driver
    from triton.runtime import build
    from triton.runtime.cache import get_cache_manager

    source = Path(driver.dirname, "driver.c").read_text()
    # The key and file name Triton looks for (triton.runtime.build.compile_module_from_src).
    key = hashlib.sha256((source + build.platform_key()).encode("utf-8")).hexdigest()
    name = f"cuda_utils{sysconfig.get_config_var('EXT_SUFFIX')}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        src = tmp_path / "cuda_utils.c"
        src.write_text(source)
        stub_dir = tmp_path / "stub"
        stub_dir.mkdir()
        _write_libcuda_stub(src, stub_dir, driver.include_dirs)
        so = build._build("cuda_utils", str(src), tmp, [driver.libdevice_dir, str(stub_dir)],
                          driver.include_dirs, driver.libraries, [])
        needed = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
        if "libcuda.so.1" not in needed:
            raise SystemExit("the launcher does not record libcuda.so.1 as a dependency; it would not load")
        # Loading it against the stub proves every symbol it needs is either in libcuda or Python.
        probe = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('cuda_utils', sys.argv[1]); "
                 "importlib.util.module_from_spec(s)")
        subprocess.run([sys.executable, "-c", probe, so], check=True,
                       env={**os.environ, "LD_LIBRARY_PATH": str(stub_dir)})
        path = get_cache_manager(key).put(Path(so).read_bytes(), name, binary=True)
    print(f"Triton CUDA launcher pre-built: {path}")
    return 0


def _write_libcuda_stub(src: Path, stub_dir: Path, include_dirs: list[str]) -> None:
    """An empty libcuda.so.1 defining every cu* function the launcher calls directly."""
    obj = stub_dir / "driver.o"
    python_include = sysconfig.get_paths()["include"]
    includes = [f"-I{d}" for d in [*include_dirs, python_include]]
    cc = os.environ.get("CC") or "gcc"
    subprocess.run([cc, "-c", "-fPIC", "-O0", *includes, str(src), "-o", str(obj)], check=True)
    undefined = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True, check=True).stdout
    symbols = sorted({line.split()[-1] for line in undefined.splitlines() if line.split()[-1].startswith("cu")})
    stub = stub_dir / "libcuda.c"
    stub.write_text("".join(f"void {s}(void) {{}}\n" for s in symbols))
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", str(stub), "-o",
                    str(stub_dir / "libcuda.so.1")], check=True)
    obj.unlink()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
