"""Request ids: 32 hex characters, never repeated, in this process or a forked child."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

from gateway.api.edge import RandomIds


def test_ids_are_32_hex_characters_and_never_repeat():
    ids = RandomIds()
    drawn = [ids.take() for _ in range(10_000)]  # across ~40 refills of the buffer
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in drawn)
    assert len(set(drawn)) == len(drawn)


def test_threads_drawing_at_once_get_distinct_ids():
    ids = RandomIds()
    with ThreadPoolExecutor(max_workers=4) as pool:
        drawn = list(pool.map(lambda _: ids.take(), range(20_000)))
    assert len(set(drawn)) == len(drawn)


def test_a_forked_child_does_not_repeat_its_parents_ids():
    ids = RandomIds()
    ids.take()  # the buffer is filled: a child copying it would replay the parent's next ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids, exit at once
        os.close(read)
        os.write(write, "".join(ids.take() for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    parent = "".join(ids.take() for _ in range(8))
    assert len(child) == len(parent) == 8 * 32
    assert {child[i : i + 32] for i in range(0, 256, 32)}.isdisjoint(
        {parent[i : i + 32] for i in range(0, 256, 32)}
    )
