"""The API key: from the environment variable first, then the system keyring (one entry per
server); a computer without a keyring is said plainly; the key never shows in a repr."""

from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from core.remote import ENV_VAR, ApiKeys, KeyringUnavailable, RemoteServer, api_key_for
from core.system.server_url import ServerUrl

URL = ServerUrl.parse("https://llm.acme.example/v1")


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("none")


def test_a_key_is_kept_per_server_in_the_keyring():
    backend = MemoryKeyring()
    keys = ApiKeys(backend)
    assert keys.available and keys.get(URL) is None
    keys.store(URL, "sk-acme")
    assert keys.get(ServerUrl.parse("https://llm.acme.example:443/other")) == "sk-acme"  # the same server
    assert keys.get(ServerUrl.parse("https://llm.acme.example:8443/v1")) is None
    assert list(backend.entries) == [("Hearth remote model server", "https://llm.acme.example:443")]
    keys.forget(URL)
    keys.forget(URL)  # forgetting twice is no error
    assert keys.get(URL) is None


def test_the_environment_comes_first_then_the_keyring():
    keys = ApiKeys(MemoryKeyring())
    keys.store(URL, "from-keyring")
    assert api_key_for(URL, environ={ENV_VAR: " from-env "}, keys=keys) == "from-env"
    assert api_key_for(URL, environ={"ACME_KEY": "named"}, env_var="ACME_KEY", keys=keys) == "named"
    assert api_key_for(URL, environ={}, keys=keys) == "from-keyring"
    assert api_key_for(URL, environ={ENV_VAR: ""}, keys=ApiKeys(MemoryKeyring())) is None


def test_no_keyring_is_said_plainly_and_never_crashes():
    keys = ApiKeys(fail.Keyring())
    assert not keys.available and keys.get(URL) is None
    with pytest.raises(KeyringUnavailable, match=f"no keyring where Hearth can keep the API key safely. Set the "
                                                 f"key in the {ENV_VAR} environment variable instead."):
        keys.store(URL, "sk")


def test_the_key_never_shows():
    server = RemoteServer.open("https://llm.acme.example/v1", api_key="sk-secret")
    assert "sk-secret" not in repr(server) and server.api_key == "sk-secret"
