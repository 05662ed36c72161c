"""Importing the app module builds nothing: no model load, no network, no settings read."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import gateway.app
heavy = [m for m in ("llama_cpp", "litellm", "onnxruntime", "redis", "psycopg", "uvicorn")
         if m in sys.modules]
print(",".join(heavy))
"""


def test_import_gateway_app_constructs_nothing():
    env = {**os.environ, "HYBRIDGW_PORT": "not-a-port", "HYBRIDGW_POLICY_FILE": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
