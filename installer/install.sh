#!/bin/sh
# Hearth's Linux installer: the script makeself runs inside the unpacked .run file, with the
# one-folder bundle beside it in hearth/. Plain POSIX sh: it runs on any Linux desktop.
#
#   ./hearth-VERSION-linux-x86_64.run                      for you only (no password needed)
#   sudo ./hearth-VERSION-linux-x86_64.run -- --system     for every account on this computer
#   ./hearth-VERSION-linux-x86_64.run -- --prefix DIR      under DIR (DIR/share/hearth, DIR/bin ...)
#
# Installs the program to PREFIX/share/hearth, a `hearth` command to PREFIX/bin, a menu entry to
# PREFIX/share/applications and the icon to PREFIX/share/icons; PREFIX is ~/.local for you only,
# /usr/local for everyone. PREFIX/share/hearth/uninstall.sh removes exactly those again.
# Chats, settings and models are not touched (they live in ~/.local/share/Hearth).
set -eu

prefix=""
scope="user"
while [ $# -gt 0 ]; do
    case "$1" in
        --system) scope="system" ;;
        --prefix) [ $# -ge 2 ] || { echo "--prefix needs a folder" >&2; exit 2; }; prefix="$2"; shift ;;
        --prefix=*) prefix="${1#--prefix=}" ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "Unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$prefix" ]; then
    if [ "$scope" = system ]; then prefix=/usr/local; else prefix="${HOME:?}/.local"; fi
fi
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac

app="$prefix/share/hearth"
bin="$prefix/bin/hearth"
desktop="$prefix/share/applications/hearth.desktop"
icon="$prefix/share/icons/hicolor/scalable/apps/hearth.svg"

if ! mkdir -p "$prefix/share" 2>/dev/null || [ ! -w "$prefix/share" ]; then
    echo "Cannot write to $prefix. To install for every account, run this installer with sudo and --system." >&2
    exit 1
fi
if [ -e "$app" ] && [ ! -f "$app/.hearth-install" ]; then
    echo "$app exists and was not made by this installer; not touching it." >&2
    exit 1
fi

echo "Installing Hearth to $app ..."
# Copy beside the old version, then swap: an interrupted install never leaves a half program.
rm -rf "$app.new"
cp -R hearth "$app.new"
cp uninstall.sh "$app.new/uninstall.sh"
chmod 755 "$app.new/uninstall.sh" "$app.new/hearth"
rm -rf "$app"
mv "$app.new" "$app"

mkdir -p "$(dirname "$bin")" "$(dirname "$desktop")" "$(dirname "$icon")"
ln -sf "$app/hearth" "$bin"
cp hearth.svg "$icon"
# Exec names the program by its full path, so the menu entry works whether or not PREFIX/bin
# is on PATH; the desktop file is written here because only now is that path known.
sed -e "s|@EXEC@|$app/hearth|" hearth.desktop.in > "$desktop"
chmod 644 "$desktop" "$icon"

# What uninstall.sh removes: exactly what was created above, one path a line.
printf '%s\n' "$bin" "$desktop" "$icon" "$app" > "$app/.hearth-install"

# Caches that already exist are refreshed so menus show the entry at once; none is created: a
# cache nobody keeps up to date would hide what other programs install there later.
refresh_caches() {
    if [ -f "$prefix/share/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$prefix/share/applications" || true
    fi
    if [ -f "$prefix/share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q "$prefix/share/icons/hicolor" || true
    fi
}
refresh_caches

echo "Hearth is installed. Start it from your applications menu, or with: $bin"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "($prefix/bin is not on your PATH; the menu entry works regardless.)" ;; esac
echo "To check it:     $bin --self-test"
echo "To uninstall it: $app/uninstall.sh"
