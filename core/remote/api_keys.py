"""Where the API key of a remote server is kept: the system's keyring (Windows Credential
Manager, the macOS Keychain, the Secret Service of GNOME or KDE), one entry per server, never
in Hearth's settings file; or, for scripts and machines without a keyring, an environment
variable (`HEARTH_REMOTE_API_KEY`, or one a command names).

`api_key_for(url)` gives the key to use: the environment variable first (what a script set for
this run), then the keyring. The `keyring` package is imported only when a key is looked up,
stored or forgotten, and a computer without a working keyring is said plainly
(`KeyringUnavailable`), never a crash.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from core.errors import HearthError
from core.system.server_url import ServerUrl

ENV_VAR = "HEARTH_REMOTE_API_KEY"
SERVICE = "Hearth remote model server"


class KeyringUnavailable(HearthError):
    """This computer has no keyring Hearth can keep the key in."""


class ApiKeys:
    """The keyring's entries for remote servers, by server (scheme, host and port). `backend`:
    a keyring backend object; by default the system's, found when first needed."""

    def __init__(self, backend: Any = None):
        self._backend = backend

    def get(self, url: ServerUrl) -> str | None:
        """The stored key for the server at `url`, or None (none stored, or no keyring)."""
        try:
            return self._keyring().get_password(SERVICE, _account(url)) or None
        except Exception:  # no keyring, a locked one, D-Bus not running ...: as if none were stored
            return None

    def store(self, url: ServerUrl, key: str) -> None:
        """Keeps `key` for the server at `url`; `KeyringUnavailable` says why it cannot."""
        try:
            self._keyring().set_password(SERVICE, _account(url), key)
        except Exception as failure:
            raise self._unavailable(failure) from None

    def forget(self, url: ServerUrl) -> None:
        """Removes the stored key, if there is one."""
        try:
            self._keyring().delete_password(SERVICE, _account(url))
        except Exception as failure:
            if type(failure).__name__ == "PasswordDeleteError":
                return  # none was stored
            raise self._unavailable(failure) from None

    @property
    def available(self) -> bool:
        """Whether keys can be kept here (a window shows the key field only then)."""
        try:
            backend = self._keyring()
        except Exception:
            return False
        return getattr(backend, "priority", 1) > 0  # keyring's "fail" backend has priority 0

    def _keyring(self) -> Any:
        if self._backend is None:
            import keyring  # imported here: finding the system's backend takes a moment

            self._backend = keyring.get_keyring()
        return self._backend

    @staticmethod
    def _unavailable(failure: Exception) -> KeyringUnavailable:
        return KeyringUnavailable(
            "This computer has no keyring where Hearth can keep the API key safely.",
            advice=f"Set the key in the {ENV_VAR} environment variable instead.",
            details=f"{type(failure).__name__}: {failure}")


def api_key_for(url: ServerUrl, *, environ: Mapping[str, str] | None = None, env_var: str = ENV_VAR,
                keys: ApiKeys | None = None) -> str | None:
    """The key to send to the server at `url`: `env_var`'s value when set, else the keyring's."""
    environ = os.environ if environ is None else environ
    if value := environ.get(env_var, "").strip():
        return value
    return (keys or ApiKeys()).get(url)


def _account(url: ServerUrl) -> str:
    scheme, host, port = url.origin
    return f"{scheme}://{host}:{port}"
