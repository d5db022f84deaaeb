#!/usr/bin/env bash
# Builds Hearth's one-folder bundle and the single-file Linux installer around it:
#
#   bash installer/build.sh [--cuda] [--no-installer]
#
#   dist/linux-cpu/hearth/                       the bundle (run dist/linux-cpu/hearth/hearth)
#   dist/hearth-VERSION-linux-x86_64.run         the installer (makeself; --help for its options)
#
# --cuda: the NVIDIA build: also Triton, with its CUDA launcher pre-built and every kernel
#   pre-compiled to cubins for each GPU generation served (kernels/target.py CUDA_TARGETS), so the
#   user's machine needs no compiler. Output under dist/linux-cuda/ and ...-linux-x86_64-cuda.run.
#   Build it in an environment with the CUDA build of torch; any build machine, GPU or not.
# --no-installer: stop after the bundle and its self-test.
#
# Every bundle is started once (`hearth --self-test`) before it is packed: a build that does not
# run is never called good. Needs the project's Python (3.11+) with pip, a C compiler for --cuda,
# makeself and Qt's X11 libraries (installed with apt-get when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

variant=cpu
make_installer=1
for arg in "$@"; do
    case "$arg" in
        --cuda) variant=cuda ;;
        --no-installer) make_installer=0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# Debian packages the build needs on this machine: PyInstaller copies the X11 libraries Qt's
# window system plugin links against into the bundle only if they are here (libxcb-cursor0 is
# missing from many stock desktops, and without it Qt cannot open a window at all).
need_debs() {
    command -v dpkg >/dev/null || { echo "not Debian-based: make sure these are installed: $*" >&2; return 0; }
    local missing=() package
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
}
need_debs gcc libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0
[ "$make_installer" = 1 ] && need_debs makeself pigz

started=$(date +%s)
python3 -m pip install --quiet -e . -r installer/requirements-build.txt
python3 -m kernels.cpu_build --quiet  # shipped prebuilt: the user needs no compiler
version=$(python3 -c 'import importlib.metadata as m; print(m.version("hearth"))')
arch=$(uname -m)
work="build/installer-$variant"
dist="dist/linux-$variant"
suffix=$([ "$variant" = cuda ] && echo "-cuda" || true)
rm -rf "$work/stage"
mkdir -p "$work"

if [ "$variant" = cuda ]; then
    # Fill a fresh Triton cache the way a GPU would on first use; the spec ships it as triton-cache/.
    cache="$work/triton-cache"
    rm -rf "$cache"
    mkdir -p "$cache"
    export TRITON_CACHE_DIR="$PWD/$cache"
    unset TRITON_INTERPRET
    python3 installer/prebuild_triton_launcher.py "$cache"
    for model in 20b 120b; do
        python3 -m kernels.compile_check --model "$model" | tail -1
    done
    unset TRITON_CACHE_DIR
    # The build's identity: the frozen program copies the cache into the user's cache folder once per build.
    echo "$version-$(date -u +%Y%m%dT%H%M%SZ)-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$cache/BUILD"
    export HEARTH_TRITON_CACHE="$PWD/$cache"
fi

HEARTH_VARIANT=$variant python3 -m PyInstaller --noconfirm --log-level WARN \
    --workpath "$work/pyinstaller" --distpath "$dist" installer/hearth.spec
bundled=$(date +%s)

echo "Launching the bundle once: $dist/hearth/hearth --self-test"
# A clean environment: the bundle must not lean on this checkout's Python or its settings.
env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 "$dist/hearth/hearth" --self-test
tested=$(date +%s)

if [ "$make_installer" = 1 ]; then
    stage="$work/stage"
    mkdir -p "$stage"
    cp -al "$dist/hearth" "$stage/hearth"  # hard links: no second copy of ~1 GB on disk
    cp installer/install.sh installer/uninstall.sh installer/hearth.desktop.in "$stage/"
    cp resources/icons/hearth.svg "$stage/"
    chmod 755 "$stage/install.sh" "$stage/uninstall.sh"
    installer="dist/hearth-$version-linux-$arch$suffix.run"
    # pigz: the same gzip stream (every Linux can unpack it) on all cores.
    compressor=$(command -v pigz >/dev/null && echo --pigz || echo --gzip)
    makeself --quiet --tar-quietly --sha256 "$compressor" --complevel 6 "$stage" "$installer" \
        "Hearth $version" ./install.sh
    rm -rf "$stage"
fi

echo
echo "Hearth $version ($variant): bundle $(( bundled - started )) s, self-test $(( tested - bundled )) s," \
     "installer $(( $(date +%s) - tested )) s"
echo "bundle:    $dist/hearth  $(du -sh "$dist/hearth" | cut -f1)"
if [ "$make_installer" = 1 ]; then
    echo "installer: $installer  $(du -h "$installer" | cut -f1)"
fi
