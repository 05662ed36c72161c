"""A first-class in-process fake of the `Backend` protocol (in the style of httpx's MockTransport).

    backend = ScriptedBackend(lambda req, model: f"echo: {req.messages[-1].text()}")
    backend = ScriptedBackend.failing(BackendUnavailable("down"))

The handler returns the answer text (or raises a `BackendError`); streams are that text cut into
`chunk_chars`-sized deltas, so restoration across chunk boundaries is exercised. Every request the
backend receives is kept in `received` — exactly what a real upstream would have been sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from kernel.errors import GatewayError
from kernel.protocols import BackendStatus
from kernel.types import (
    AssistantMessage,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)

Handler = Callable[[ChatRequest, str], str]


@dataclass(frozen=True, slots=True)
class Received:
    request: ChatRequest
    model: str
    stream: bool


class ScriptedBackend:
    """Answers from `handler`; records what it receives. No sockets, no threads."""

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = "scripted",
        chunk_chars: int = 3,
        logprob: float | None = None,
    ) -> None:
        self.name = name
        self._handler = handler
        self._chunk_chars = chunk_chars
        self._logprob = logprob  # with `logprobs` asked: every word (chunk) gets this logprob
        self.received: list[Received] = []

    @classmethod
    def echo(
        cls, *, name: str = "echo", chunk_chars: int = 3, logprob: float | None = None
    ) -> ScriptedBackend:
        """Answers with the last message's text, so what it was sent comes back."""
        return cls(
            lambda req, _model: req.messages[-1].text(),
            name=name,
            chunk_chars=chunk_chars,
            logprob=logprob,
        )

    @classmethod
    def failing(cls, error: GatewayError, *, name: str = "failing") -> ScriptedBackend:
        def fail(_req: ChatRequest, _model: str) -> str:
            raise error

        return cls(fail, name=name)

    def texts(self) -> str:
        """Every message text every request carried, joined: what a leak check searches."""
        return "\n".join(m.text() for r in self.received for m in r.request.messages)

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        self.received.append(Received(req, model, stream=False))
        answer = self._handler(req, model)
        logprobs = None
        if req.logprobs and self._logprob is not None:
            words = answer.split()
            logprobs = {"content": [{"token": w, "logprob": self._logprob} for w in words]}
        return ChatResponse(
            id="chatcmpl-scripted",
            model=model,
            choices=[Choice(message=AssistantMessage(content=answer), logprobs=logprobs)],
            usage=Usage(),  # like a server that reports none: the gateway's counting rule applies
        )

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        self.received.append(Received(req, model, stream=True))
        answer = self._handler(req, model)
        step = max(1, self._chunk_chars)
        for start in range(0, len(answer), step):
            piece = answer[start : start + step]
            logprobs = None
            if req.logprobs and self._logprob is not None:  # each chunk is one token
                logprobs = {"content": [{"token": piece, "logprob": self._logprob}]}
            choice = ChunkChoice(delta=Delta(content=piece), logprobs=logprobs)
            yield ChatChunk(id="chatcmpl-scripted", model=model, choices=[choice])
        done = ChunkChoice(delta=Delta(), finish_reason="stop")
        yield ChatChunk(id="chatcmpl-scripted", model=model, choices=[done])

    async def start(self) -> None:
        return None

    def status(self) -> BackendStatus:
        return BackendStatus(ready=True)

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]:
        return frozenset()

    async def aclose(self) -> None:
        return None
