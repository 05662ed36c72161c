"""PolicyStore: atomic reload, a bad file never replaces a good one, the file watcher."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest

from policies.loader import PolicyFileError, default_policy_path
from policies.store import PolicyStore

GOOD = default_policy_path().read_text()
HARDER = re.sub(r"difficulty_gte: [0-9.]+", "difficulty_gte: 0.8", GOOD)  # any shipped value
BROKEN = GOOD.replace("target: gpt-4o-mini\n    fallbacks: [local]", "target: gpt-5")


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    return path


def test_a_bad_file_at_start_up_refuses_to_start(tmp_path: Path):
    path = tmp_path / "policy.yaml"
    path.write_text(BROKEN)
    with pytest.raises(PolicyFileError, match=r"policy\.yaml:\d+:\d+: route\.1\.target"):
        PolicyStore(path)


def test_reload_swaps_and_tells_listeners(policy_file: Path):
    store = PolicyStore(policy_file)
    heard: list[str] = []
    store.subscribe(lambda loaded: heard.append(loaded.version))
    old = store.current
    policy_file.write_text(HARDER)
    new = store.reload()
    assert store.current is new and new.version != old.version
    assert new.document.route[1].when.difficulty_gte == 0.8
    assert heard == [new.version]


def test_unchanged_file_is_not_reactivated(policy_file: Path):
    store = PolicyStore(policy_file)
    heard: list[str] = []
    store.subscribe(lambda loaded: heard.append(loaded.version))
    assert store.reload() is store.current
    assert heard == []


def test_bad_reload_keeps_old_policy_and_records_the_error(policy_file: Path):
    store = PolicyStore(policy_file)
    old = store.current
    policy_file.write_text(BROKEN)
    with pytest.raises(PolicyFileError) as caught:
        store.reload()
    status = store.status()
    assert store.current is old
    assert status.version == old.version
    assert status.last_error == caught.value.message
    assert "unknown model alias 'gpt-5'" in caught.value.message
    assert status.reload_failures == 1 and status.last_error_at is not None
    policy_file.write_text(HARDER)
    store.reload()
    assert store.status().last_error is None and store.status().reload_failures == 1


def test_a_deleted_file_is_a_reload_error_not_a_crash(policy_file: Path):
    store = PolicyStore(policy_file)
    policy_file.unlink()
    with pytest.raises(PolicyFileError, match="cannot read"):
        store.reload()
    assert store.current.document.version == 1


async def _wait_for(condition, *, touch: Path, text: str, timeout_s: float = 5.0) -> bool:
    """Poll up to `timeout_s`, rewriting `touch` so a watcher that started late still sees it."""
    for _ in range(int(timeout_s / 0.25)):
        touch.write_text(text)
        await asyncio.sleep(0.25)
        if condition():
            return True
    return False


@contextlib.asynccontextmanager
async def watching(store: PolicyStore):
    task = asyncio.create_task(store.watch(debounce_ms=50))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_watcher_reloads_a_changed_file(policy_file: Path):
    store = PolicyStore(policy_file)
    old = store.current.version
    async with watching(store):
        changed = await _wait_for(
            lambda: store.current.version != old, touch=policy_file, text=HARDER
        )
    assert changed
    assert store.current.document.route[1].when.difficulty_gte == 0.8


async def test_watcher_keeps_the_old_policy_on_a_bad_file(policy_file: Path):
    store = PolicyStore(policy_file)
    old = store.current
    async with watching(store):
        failed = await _wait_for(lambda: store.reload_failures > 0, touch=policy_file, text=BROKEN)
    assert failed
    assert store.current is old
    assert "gpt-5" in (store.last_error or "")


async def test_watcher_sees_a_save_by_rename(policy_file: Path):
    store = PolicyStore(policy_file)
    old = store.current.version
    staged = policy_file.with_name("policy.yaml.tmp")

    def replaced() -> bool:
        staged.replace(policy_file)
        return store.current.version != old

    async with watching(store):
        changed = await _wait_for(replaced, touch=staged, text=HARDER)
    assert changed


async def test_watcher_follows_a_configmap_style_symlink_swap(tmp_path: Path):
    """Kubernetes mounts `policy.yaml -> ..data/policy.yaml` and swaps `..data` atomically."""
    (tmp_path / "..v1").mkdir()
    (tmp_path / "..v1" / "policy.yaml").write_text(GOOD)
    (tmp_path / "..data").symlink_to("..v1")
    (tmp_path / "policy.yaml").symlink_to("..data/policy.yaml")
    store = PolicyStore(tmp_path / "policy.yaml")
    old = store.current.version
    (tmp_path / "..v2").mkdir()
    staged = tmp_path / "..v2" / "policy.yaml"

    def swapped() -> bool:
        link = tmp_path / "..data_tmp"
        link.unlink(missing_ok=True)
        link.symlink_to("..v2")
        link.replace(tmp_path / "..data")
        return store.current.version != old

    async with watching(store):
        changed = await _wait_for(swapped, touch=staged, text=HARDER)
    assert changed
