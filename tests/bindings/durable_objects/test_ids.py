"""Ids as workerd derives them (workerd src/workerd/server/actor-id-impl.c++)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wranglerpy.bindings.durable_objects.ids import IdFactory, unique_key


def test_id_from_name_is_64_hex_and_the_same_in_another_process() -> None:
    factory = IdFactory(unique_key("chat", "Room"))
    here = factory.from_name("lobby")
    assert len(here.toString()) == 64 and int(here.toString(), 16) >= 0
    assert here.name == "lobby"
    code = (
        "from wranglerpy.bindings.durable_objects.ids import IdFactory;"
        "print(IdFactory('chat-Room').from_name('lobby').toString())"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here.toString()


def test_names_and_namespaces_give_different_ids() -> None:
    rooms, counters = IdFactory("chat-Room"), IdFactory("chat-Counter")
    assert rooms.from_name("a") != rooms.from_name("b")
    assert rooms.from_name("a").toString() != counters.from_name("a").toString()


def test_ids_carry_a_mac_checked_by_id_from_string() -> None:
    """The second half is HMAC(key, first half): actor-id-impl.c++ computeMac/idFromRaw."""
    rooms = IdFactory("chat-Room")
    unique = rooms.new_unique()
    again = rooms.from_string(unique.toString())
    assert again.equals(unique) and again.name is None
    with pytest.raises(TypeError, match="Durable Object ID is not valid for this namespace."):
        IdFactory("chat-Counter").from_string(unique.toString())
    for bad in ("abc", "z" * 64, unique.toString() + "00"):
        with pytest.raises(TypeError, match="Invalid Durable Object ID: must be 64 hex digits"):
            rooms.from_string(bad)
    assert rooms.new_unique() != unique
