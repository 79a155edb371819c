"""The refresh token goes to the OS keyring, or stays in memory when no keyring works."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring

from impdesk import APP_ID
from impdesk.credentials import KeyringTokenStore, keyring_user
from tests.keyrings import MemoryKeyring


@pytest.fixture
def use_keyring():
    previous = keyring.get_keyring()

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


def test_token_is_kept_per_account_and_cloud(use_keyring):
    backend = use_keyring(MemoryKeyring())
    store = KeyringTokenStore("me@example.com", "https://api.electricimp.com/v5")
    store.save("refresh-1")
    assert backend.entries == {(APP_ID, "me@example.com@api.electricimp.com"): "refresh-1"}
    assert KeyringTokenStore("me@example.com", "https://api.electricimp.com/v5").load() \
        == "refresh-1"
    assert KeyringTokenStore("me@example.com", "https://api.az.electricimp.io/v5").load() is None
    store.clear()
    assert backend.entries == {} and store.load() is None and store.error is None


def test_without_a_working_keyring_the_session_lives_in_memory_only(use_keyring):
    use_keyring(FailKeyring())
    store = KeyringTokenStore("me@example.com", "https://api.electricimp.com/v5")
    store.save("refresh-1")
    assert store.load() == "refresh-1"  # this session still works
    assert store.persist is False and "session only" in (store.error or "")
    assert KeyringTokenStore("me@example.com", "https://api.electricimp.com/v5").load() is None
    store.clear()
    assert store.load() is None


def test_not_remembered_means_nothing_reaches_the_keyring(use_keyring):
    backend = use_keyring(MemoryKeyring())
    store = KeyringTokenStore("me", "https://api.electricimp.com/v5", persist=False)
    store.save("refresh-1")
    assert store.load() == "refresh-1" and backend.entries == {}
    assert "refresh-1" not in repr(store)


def test_keyring_user_names_the_api_host():
    assert keyring_user("demo", "http://127.0.0.1:8642/v5") == "demo@127.0.0.1"
