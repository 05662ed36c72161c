"""`hybridgw demo` pieces: a seeded workload, the mock-cloud policy copy, a fully mocked run."""

from __future__ import annotations

from datetime import timedelta

import yaml

from gateway.demo.run import DEMO_KEY_ENV, demo_policy, run_demo
from gateway.demo.workload import load_workload
from gateway.ledger.sqlite import SqliteLedger
from gateway.settings import Settings
from policies.loader import default_policy_path


def test_workload_is_seeded_and_mixed():
    first, again = load_workload(60, seed=1), load_workload(60, seed=1)
    assert first == again and len(first) == 60
    assert len({p.app for p in first}) >= 3 and len({p.source for p in first}) >= 4


def test_committed_sample_stands_in_without_shared_data(tmp_path):
    prompts = load_workload(20, seed=1, root=tmp_path / "no-shared-data")
    assert len(prompts) == 20 and all(p.text for p in prompts)


def test_demo_policy_points_every_cloud_alias_at_the_mock(tmp_path):
    path = demo_policy(default_policy_path(), "http://127.0.0.1:9/v1", tmp_path)
    models = yaml.safe_load(path.read_text())["models"]
    clouds = [m for m in models.values() if m["tier"] == "cloud"]
    assert clouds and all(m["api_base"] == "http://127.0.0.1:9/v1" for m in clouds)
    assert all(m["api_key_env"] == DEMO_KEY_ENV for m in clouds)
    assert all("api_base" not in m for m in models.values() if m["tier"] == "local")


async def test_demo_run_records_every_prompt(write_policy, tmp_path):
    db = tmp_path / "demo.db"
    settings = Settings(
        policy_file=write_policy(),
        classifier="fake",
        fake_difficulty=0.5,
        database_url=f"sqlite:///{db}",
    )
    done = []
    run = await run_demo(load_workload(6, seed=3), settings, on_done=lambda: done.append(1))
    assert len(done) == 6 and sum(run.tiers.values()) + sum(run.errors.values()) == 6
    ledger = await SqliteLedger.open(db)
    rows = await ledger.summarize(
        since=run.since, until=run.until + timedelta(seconds=1), group_by="app"
    )
    await ledger.aclose()
    assert rows[-1].requests == 6
