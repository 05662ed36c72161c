"""In-process llama.cpp backend (llama-cpp-python), the embedded default local tier.

One model instance is not thread-safe, so all inference runs on one worker thread. Requests wait
in a bounded queue: when `max_queue` requests are already waiting, new ones get `BackendBusy`
(the next candidate takes them, else 429) instead of piling up. A prompt that does not fit
`n_ctx` fails the same way (`ContextLengthExceeded`) before it is queued; a model file that does
not load makes the backend `BackendUnavailable` with the reason in `status()`. Streaming hands
tokens from the worker thread to the event loop as they are produced; if the client goes away,
generation stops at the next token. Structured output and tool calls are grammar-constrained
(see `llama_request` and `grammar`).
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
from typing import TYPE_CHECKING, Any

from kernel.errors import BackendBusy, BackendError, BackendUnavailable, ContextLengthExceeded
from kernel.protocols import BackendStatus
from kernel.types import ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, Usage
from local_backends.llama_answer import read_answer
from local_backends.llama_request import (
    LocalCall,
    ignored_params,
    plan_local_call,
    wants_logprobs,
)

if TYPE_CHECKING:
    from local_backends.logprobs import LogprobRecorder

log = logging.getLogger(__name__)

_END = object()
_RELOAD_AFTER_S = 30.0  # a failed load is retried on demand, at most this often
_TEMPLATE_TOKENS = 16  # the chat template's default system prompt and trailer


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
        self._load_error: str | None = None
        self._failed_at = 0.0

    @property
    def queue_depth(self) -> int:
        return self._pending

    def status(self) -> BackendStatus:
        if self._llm is not None:
            return BackendStatus(True, queue_depth=self._pending)
        if self._load_error:
            return BackendStatus(False, self._load_error, self._pending)
        return BackendStatus(False, "the local model is not loaded yet", self._pending, True)

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]:
        return ignored_params(req)

    async def start(self) -> None:
        """Load the model once (on the worker thread); a failure is kept as the status reason."""
        async with self._load_lock:
            if self._llm is not None:
                return
            if self._load_error and time.monotonic() - self._failed_at < _RELOAD_AFTER_S:
                return
            loop = asyncio.get_running_loop()
            try:
                self._llm = await loop.run_in_executor(self._executor, self._load)
                self._load_error = None
            except Exception as exc:
                self._load_error = f"the local model failed to load: {_load_reason(exc)}"
                self._failed_at = time.monotonic()
                log.error("llamacpp: %s (%s)", self._load_error, self.config.model_path)

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
        call, kwargs = await self._prepare(req)
        recorder = _recorder(req, kwargs)
        try:
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(self._executor, self._generate, kwargs)
        finally:
            self._pending -= 1
        response = _response(call, raw, model)
        if recorder is not None:
            content = response.choices[0].message.content or ""
            logprobs = {"content": recorder.content(self._llm, content), "refusal": None}
            choice = response.choices[0].model_copy(update={"logprobs": logprobs})
            response = response.model_copy(update={"choices": [choice]})
        return response

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        call, kwargs = await self._prepare(req)
        if call.tool_mode is not None:  # a call is decoded whole, then sent as one delta
            async for chunk in self._stream_whole(call, kwargs, model):
                yield chunk
            return
        recorder = _recorder(req, kwargs)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def produce() -> None:
            try:
                for item in self._generate_stream(kwargs, cancelled, recorder):
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

    async def _stream_whole(
        self, call: LocalCall, kwargs: dict[str, Any], model: str
    ) -> AsyncIterator[ChatChunk]:
        try:
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(self._executor, self._generate, kwargs)
        finally:
            self._pending -= 1
        response = _response(call, raw, model)
        choice = response.choices[0]
        calls = [{"index": i, **c} for i, c in enumerate(choice.message.tool_calls or [])]
        delta = Delta(
            role="assistant",
            content=choice.message.content,
            tool_calls=calls or None,
        )
        yield ChatChunk(id=response.id, model=model, choices=[ChunkChoice(delta=delta)])
        finish = ChunkChoice(finish_reason=choice.finish_reason)
        yield ChatChunk(id=response.id, model=model, choices=[finish])
        yield ChatChunk(id=response.id, model=model, usage=response.usage)

    async def _prepare(self, req: ChatRequest) -> tuple[LocalCall, dict[str, Any]]:
        """Everything that may refuse the request, before it takes a queue slot."""
        await self.start()
        if self._llm is None:
            raise BackendUnavailable(f"The local model is unavailable: {self.status().reason}.")
        call = plan_local_call(req, self._defaults())
        sampling = dict(call.sampling)
        if "logit_bias" in sampling:  # ids outside this vocabulary name no token here
            vocab = self._llm.n_vocab()
            sampling["logit_bias"] = {t: b for t, b in sampling["logit_bias"].items() if t < vocab}
        prompt_tokens = self._count_prompt_tokens(call.messages)
        room = self.config.n_ctx - prompt_tokens
        wanted = req.completion_limit()
        if room < (wanted or 1):
            raise ContextLengthExceeded(
                f"The prompt ({prompt_tokens} tokens) and max_tokens ({wanted or 1}) do not fit "
                f"the local model's context window of {self.config.n_ctx} tokens.",
                param="messages",
            )
        kwargs = {
            **sampling,
            "messages": call.messages,
            "max_tokens": min(wanted or self.config.default_max_tokens, room),
        }
        if call.grammar is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(call.grammar, verbose=False)
        self._admit()
        return call, kwargs

    def _defaults(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "repeat_penalty": cfg.repeat_penalty,
        }

    def _admit(self) -> None:
        if self._pending >= self.config.max_queue + 1:
            raise BackendBusy(
                "The local model is busy; too many requests are waiting.", retry_after=1.0
            )
        self._pending += 1

    def _generate(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._llm.create_chat_completion(**kwargs)
            return result
        except Exception as exc:
            raise _map_error(exc) from exc

    def _generate_stream(
        self, kwargs: dict[str, Any], cancelled: threading.Event, recorder: LogprobRecorder | None
    ) -> Iterator[dict[str, Any]]:
        """Yield llama.cpp's chunks (each with the logprobs of its tokens when `recorder` is
        given), then one usage record {"usage": …} computed from the run."""
        prompt_tokens = self._count_prompt_tokens(kwargs["messages"])
        completion_tokens = 0
        text = ""
        for chunk in self._llm.create_chat_completion(**kwargs, stream=True):
            if cancelled.is_set():
                return
            if chunk["choices"] and (content := chunk["choices"][0]["delta"].get("content")):
                completion_tokens += 1
                if recorder is not None:
                    text += content
                    logprobs = {"content": recorder.content(self._llm, text), "refusal": None}
                    chunk["choices"][0]["logprobs"] = logprobs
            yield chunk
        yield {"usage": Usage.of(prompt_tokens, completion_tokens)}

    def _count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of the prompt by the model's own tokenizer, plus the template's per message."""
        text = "".join(m["content"] for m in messages)
        tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        return len(tokens) + 3 * len(messages) + _TEMPLATE_TOKENS

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._llm = None


def _response(call: LocalCall, raw: dict[str, Any], model: str) -> ChatResponse:
    choice = raw["choices"][0]
    text = choice["message"].get("content") or ""
    message, finish = read_answer(call, text, choice.get("finish_reason") or "stop")
    usage = raw.get("usage") or {}
    return ChatResponse(
        id=_completion_id(),
        model=model,
        choices=[Choice(message=message, finish_reason=finish)],
        usage=Usage.of(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
    )


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
                logprobs=choice.get("logprobs"),
            )
        ],
    )


def _recorder(req: ChatRequest, kwargs: dict[str, Any]) -> LogprobRecorder | None:
    """A logprob recorder installed in `kwargs` when `req` asks for logprobs, else None."""
    if not wants_logprobs(req):
        return None
    from llama_cpp import LogitsProcessorList

    from local_backends.logprobs import LogprobRecorder  # numpy: only when asked

    recorder = LogprobRecorder(req.top_logprobs or 0)
    kwargs["logits_processor"] = LogitsProcessorList([recorder])
    return recorder


def _load_reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError | ValueError):  # llama_cpp: missing or corrupt GGUF
        return str(exc).split("\n")[0][:200]
    return type(exc).__name__


def _map_error(exc: BaseException) -> Exception:
    if isinstance(exc, BackendError):
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
