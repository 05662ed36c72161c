"""Run `cloud_backends.mock_upstream.MockUpstream` (not recording) as its own process.

    .venv/bin/python -m bench.mock_server --port 18000

The benchmarks' OpenAI-compatible upstream: one asyncio process on uvloop (when installed),
answering every chat completion at once with an echo of the last user message.
"""

from __future__ import annotations

import argparse
import asyncio

from cloud_backends.mock_upstream import MockUpstream


async def serve(port: int) -> None:
    mock = MockUpstream(port=port, record=False)
    await mock.serve()
    print(f"mock upstream on {mock.base_url}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.port))
    except ImportError:
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
