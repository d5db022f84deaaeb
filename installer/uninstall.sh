#!/bin/sh
# Removes Hearth as installed by install.sh: the paths listed in .hearth-install beside this
# script (the `hearth` command, the menu entry, the icon, the program folder), nothing else.
# Chats, settings and downloaded models stay in ~/.local/share/Hearth; delete that folder by
# hand to remove them too.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
manifest="$here/.hearth-install"
if [ ! -f "$manifest" ]; then
    echo "$here does not look like a Hearth installation (no .hearth-install); nothing removed." >&2
    exit 1
fi

while IFS= read -r path; do
    case "$path" in
        "$here") ;;  # the program folder goes last, with this script in it
        */bin/hearth|*/applications/hearth.desktop|*/apps/hearth.svg) rm -f "$path" ;;
        *) echo "Skipping unexpected entry in $manifest: $path" >&2 ;;
    esac
done < "$manifest"

rm -rf "$here"
# Refresh the menu and icon caches that exist (install.sh creates none).
share="$(dirname "$here")"
if [ -f "$share/applications/mimeinfo.cache" ] && command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" || true
fi
if [ -f "$share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q "$share/icons/hicolor" || true
fi
echo "Hearth is uninstalled. Your chats and models are kept in ~/.local/share/Hearth."
