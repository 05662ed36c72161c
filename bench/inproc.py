"""N chat requests through the gateway's ASGI app in this process, one after another.

    python bench/inproc.py --body BODY.json --key KEY --requests N [--profile OUT.prof]

No HTTP server and no load generator: what is left is the gateway's own per-request work and
its upstream client, so a run under `valgrind --tool=callgrind` (`bench/bench_instructions.py`)
counts the gateway's instructions and nothing else, and `--profile` gives a cProfile of the
same loop. The gateway is configured by the `HYBRIDGW_*` environment, as `hybridgw serve` is;
each `@N@` in the body is replaced by the request's number (as `bench/wrk_post.lua` does), so
no two prompts are alike. Started by path, it imports only the gateway (of the working
directory first, so an earlier checkout can be measured from its own folder). Exits 1 at the
first answer that is not a 200.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
from pathlib import Path
from typing import Any


def scope(body: bytes, key: str) -> dict[str, Any]:
    """The ASGI scope of one `POST /v1/chat/completions` as uvicorn would pass it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def one(app: Any, body: bytes, key: str) -> int:
    """Send one request through `app`; its status code."""
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    await app(scope(body, key), receive, send)
    return statuses[0]


async def run(template: str, key: str, requests: int, profile: Path | None) -> int:
    from gateway.app import create_app

    app = create_app()
    profiler = cProfile.Profile() if profile is not None else None
    async with app.router.lifespan_context(app):
        if profiler is not None:
            profiler.enable()
        for i in range(requests):
            status = await one(app, template.replace("@N@", str(i)).encode(), key)
            if status != 200:
                print(f"request {i}: status {status}", file=sys.stderr)
                return 1
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--body", type=Path, required=True, help="JSON body; @N@ = request no.")
    parser.add_argument("--key", required=True, help="the gateway API key")
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the request loop")
    args = parser.parse_args()
    template = args.body.read_text("utf-8")
    return asyncio.run(run(template, args.key, args.requests, args.profile))


if __name__ == "__main__":
    sys.path[0] = str(Path.cwd())  # the checkout being measured, not this file's folder
    sys.exit(main())
