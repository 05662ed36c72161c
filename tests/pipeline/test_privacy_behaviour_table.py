"""Where text may go, as a behaviour table over the whole pipeline on scripted backends.

{first choice local / cloud} × {fallback taken} × {PII only the model finds} × {stream / not}
× {block-operator type present}. The cloud backend records every request it is sent: a name
must never be in it, a blocked type must never reach it at all, and the client gets the name
back whenever a cloud hop answered.
"""

from __future__ import annotations

import itertools

import pytest
from stages_support import rig

from kernel.errors import BackendUnavailable, PolicyBlocked
from kernel.fakes import ScriptedBackend

NAME = "Margaret Thompson"
NAME_ONLY = f"Summarise what {NAME} said in yesterday's meeting."
SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
WITH_SECRET = f"Summarise what {NAME} said. Our token is {SECRET} for the repo."

CASES = list(
    itertools.product(
        ("local", "cloud"),  # first choice
        (False, True),  # the first choice fails, so the fallback is taken
        (False, True),  # the prompt carries a name (only the model part finds it)
        (False, True),  # streamed
        (False, True),  # a block-operator type (a token) is present
    )
)


async def _ask(r, text: str, stream: bool) -> str:
    ex = r.exchange(text, stream=stream)
    if not stream:
        response, _route = await r.pipeline.complete(ex)
        return response.choices[0].message.content or ""
    streamed = await r.pipeline.stream(ex)
    parts = [c.choices[0].delta.content or "" async for c in streamed.chunks if c.choices]
    return "".join(parts)


@pytest.mark.parametrize(("first", "fails", "named", "stream", "blocked"), CASES)
async def test_text_goes_only_where_decide_allows(tmp_path, first, fails, named, stream, blocked):
    down = ScriptedBackend.failing(BackendUnavailable("down"))
    local = down if (first == "local" and fails) else ScriptedBackend.echo(name="local")
    cloud = down if (first == "cloud" and fails) else ScriptedBackend.echo(name="cloud")
    r = rig(tmp_path, difficulty=0.9 if first == "cloud" else 0.1, local=local, cloud=cloud)
    text = WITH_SECRET if blocked else (NAME_ONLY if named else "Summarise the meeting notes.")

    cloud_serves = (first == "cloud") != fails  # cloud first and up, or local first and down
    if blocked and first == "cloud":
        with pytest.raises(PolicyBlocked, match="cannot be sent to the cloud"):
            await _ask(r, text, stream)
    elif blocked and fails:  # local first and down: the cloud fallback is withheld
        with pytest.raises(BackendUnavailable, match="withheld"):
            await _ask(r, text, stream)
    else:
        answer = await _ask(r, text, stream)
        if named:
            assert NAME in answer  # restored when the cloud answered, untouched locally
        served = r.cloud if cloud_serves else r.local
        assert served.received, "the expected tier did not answer"

    sent_to_cloud = r.cloud.texts()  # what the cloud slot received, failing or not
    assert NAME not in sent_to_cloud
    assert SECRET not in sent_to_cloud
    if blocked:
        assert not r.cloud.received  # a blocked type withholds every cloud hop
    assert len(r.ledger.entries) == 1  # one ledger write, whatever happened
