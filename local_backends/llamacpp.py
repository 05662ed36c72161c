"""In-process llama.cpp backend (llama-cpp-python), the embedded default local tier.

One model instance is not thread-safe, so all inference runs on one worker thread. Requests wait
in a bounded queue: when `max_queue` requests are already waiting, new ones get `QueueFull` (429)
at once instead of piling up. Streaming hands tokens from the worker thread to the event loop as
they are produced; if the client goes away, generation stops at the next token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kernel.errors import BackendError, ContextLengthExceeded, QueueFull
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

log = logging.getLogger(__name__)

_END = object()


@dataclass(frozen=True, slots=True)
class LlamaCppConfig:
    model_path: str
    n_threads: int = 2
    n_ctx: int = 4096
    max_queue: int = 8
    # SmolLM2's recommended sampling; greedy decoding degenerates on a 135M model.
    temperature: float = 0.2
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    default_max_tokens: int = 512


class LlamaCppBackend:
    """`Backend` running a GGUF model in this process."""

    name = "llamacpp"

    def __init__(self, config: LlamaCppConfig) -> None:
        self.config = config
        self._llm: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llamacpp")
        self._pending = 0
        self._load_lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._llm is not None

    @property
    def queue_depth(self) -> int:
        return self._pending

    async def start(self) -> None:
        """Load the model once (on the worker thread, so the event loop stays free)."""
        async with self._load_lock:
            if self._llm is None:
                loop = asyncio.get_running_loop()
                self._llm = await loop.run_in_executor(self._executor, self._load)

    def _load(self) -> Any:
        from llama_cpp import Llama  # heavy import, only when the local tier is used

        started = time.perf_counter()
        llm = Llama(
            model_path=self.config.model_path,
            n_ctx=self.config.n_ctx,
            n_threads=self.config.n_threads,
            n_threads_batch=self.config.n_threads,
            verbose=False,
        )
        log.info("llamacpp model loaded in %.2fs", time.perf_counter() - started)
        return llm

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        await self.start()
        self._admit()
        try:
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(self._executor, self._generate, req)
        finally:
            self._pending -= 1
        choice = raw["choices"][0]
        usage = raw.get("usage") or {}
        return ChatResponse(
            id=_completion_id(),
            model=model,
            choices=[
                Choice(
                    message=AssistantMessage(content=choice["message"].get("content") or ""),
                    finish_reason=choice.get("finish_reason") or "stop",
                )
            ],
            usage=Usage.of(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        )

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        await self.start()
        self._admit()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def produce() -> None:
            try:
                for item in self._generate_stream(req, cancelled):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
            except BaseException as exc:  # handed to the consumer, raised there
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        future = loop.run_in_executor(self._executor, produce)
        completion_id = _completion_id()
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, BaseException):
                    raise _map_error(item) from item
                yield _to_chunk(completion_id, model, item)
        finally:
            cancelled.set()
            self._pending -= 1
            if not future.done():
                future.add_done_callback(lambda f: f.exception())

    def _admit(self) -> None:
        if self._pending >= self.config.max_queue + 1:
            raise QueueFull(
                "The local model is busy; too many requests are waiting.", retry_after=1.0
            )
        self._pending += 1

    def _generate(self, req: ChatRequest) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._llm.create_chat_completion(**self._params(req))
            return result
        except Exception as exc:
            raise _map_error(exc) from exc

    def _generate_stream(
        self, req: ChatRequest, cancelled: threading.Event
    ) -> Iterator[dict[str, Any]]:
        """Yield llama.cpp's chunks, then one usage record {"usage": …} computed from the run."""
        messages = _messages(req)
        prompt_tokens = self._count_prompt_tokens(messages)
        completion_tokens = 0
        for chunk in self._llm.create_chat_completion(**self._params(req), stream=True):
            if cancelled.is_set():
                return
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                completion_tokens += 1
            yield chunk
        yield {"usage": Usage.of(prompt_tokens, completion_tokens)}

    def _count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        text = "".join(m["content"] for m in messages)
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)) + 3 * len(
            messages
        )

    def _params(self, req: ChatRequest) -> dict[str, Any]:
        cfg = self.config
        return {
            "messages": _messages(req),
            "max_tokens": req.completion_limit() or cfg.default_max_tokens,
            "temperature": cfg.temperature if req.temperature is None else req.temperature,
            "top_p": cfg.top_p if req.top_p is None else req.top_p,
            "repeat_penalty": cfg.repeat_penalty,
            "stop": req.stop_list() or None,
            "seed": req.seed,
            "presence_penalty": req.presence_penalty or 0.0,
            "frequency_penalty": req.frequency_penalty or 0.0,
        }

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._llm = None


def _messages(req: ChatRequest) -> list[dict[str, str]]:
    """Plain role/text messages for the model's chat template (developer → system)."""
    out: list[dict[str, str]] = []
    for message in req.messages:
        role = "system" if message.role == "developer" else message.role
        if role == "tool":
            role = "user"
        out.append({"role": role, "content": message.text()})
    return out


def _to_chunk(completion_id: str, model: str, item: dict[str, Any]) -> ChatChunk:
    if "usage" in item and not item.get("choices"):
        return ChatChunk(id=completion_id, model=model, usage=item["usage"])
    choice = item["choices"][0]
    delta = choice.get("delta") or {}
    return ChatChunk(
        id=completion_id,
        model=model,
        choices=[
            ChunkChoice(
                delta=Delta(role=delta.get("role"), content=delta.get("content")),
                finish_reason=choice.get("finish_reason"),
            )
        ],
    )


def _map_error(exc: BaseException) -> Exception:
    if isinstance(exc, BackendError | ContextLengthExceeded):
        return exc
    text = str(exc)
    if isinstance(exc, ValueError) and "context window" in text:
        return ContextLengthExceeded(
            "The prompt is longer than the local model's context window.", param="messages"
        )
    log.error("llamacpp generation failed: %s", type(exc).__name__)
    return BackendError("The local model failed to generate an answer.")


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"
