"""`logprobs` / `top_logprobs` on the local tier without llama.cpp's `logits_all` buffer.

A logits processor sees the model's raw logits before each token is sampled, and the tokens
chosen so far: so it records, per step, the top alternatives and — one step later — the chosen
token's log-probability. The last token has no later step; it is recovered from the answer's
text. Values are the model's own distribution, before temperature, penalties and grammar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


class LogprobRecorder:
    """Pass as a llama.cpp logits processor; read with `content()` after the answer or chunk."""

    def __init__(self, top: int) -> None:
        self._top = top
        self._steps: list[tuple[npt.NDArray[np.intc], npt.NDArray[np.float32]]] = []
        self._chosen: list[tuple[int, float]] = []
        self._last: npt.NDArray[np.float32] | None = None
        self._given = 0  # tokens `content` has returned, and their bytes
        self._used = 0

    def __call__(
        self, input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        if self._last is not None:
            token = int(input_ids[-1])
            self._chosen.append((token, float(self._last[token])))
        shifted = scores - scores.max()
        logprobs = (shifted - np.log(np.exp(shifted).sum())).astype(np.float32)
        k = max(self._top, 1)
        best = np.argpartition(-logprobs, k)[:k]
        ids: npt.NDArray[np.intc] = best[np.argsort(-logprobs[best])].astype(np.intc)
        self._steps.append((ids, logprobs[ids].astype(np.float32)))
        self._last = logprobs
        return scores

    def content(self, llm: Any, text: str) -> list[dict[str, Any]]:
        """OpenAI's `logprobs.content` for the tokens of `text` (the answer so far) not returned
        by an earlier call: one entry per token, with its alternatives.

        Called once after the answer, or per streamed chunk with the text streamed so far. The
        token sampled last is recorded only at the next step, so it is recovered from the text.
        """
        want = text.encode("utf-8")
        out: list[dict[str, Any]] = []
        while self._given < len(self._steps) and self._used < len(want):
            ids, values = self._steps[self._given]
            if self._given < len(self._chosen):
                token, logprob = self._chosen[self._given]
            else:  # the step just sampled (or the final one, at max_tokens)
                last = _token_for(llm, want[self._used :], ids)
                if last is None or self._last is None:
                    break
                token, logprob = last, float(self._last[last])
            piece = _piece(llm, token)
            if self._used + len(piece) > len(want):  # not streamed yet, or cut by a stop sequence
                break
            self._used += len(piece)
            self._given += 1
            out.append(
                {
                    **_entry(piece, logprob),
                    "top_logprobs": [
                        _entry(_piece(llm, int(i)), float(v))
                        for i, v in list(zip(ids, values, strict=True))[: self._top]
                    ],
                }
            )
        return out


def _piece(llm: Any, token: int) -> bytes:
    piece: bytes = llm.detokenize([token])
    return piece


def _token_for(llm: Any, rest: bytes, candidates: npt.NDArray[np.intc]) -> int | None:
    for token in candidates:
        if _piece(llm, int(token)) == rest:
            return int(token)
    tokens = llm.tokenize(rest, add_bos=False, special=False)
    return int(tokens[0]) if len(tokens) == 1 else None


def _entry(piece: bytes, logprob: float) -> dict[str, Any]:
    return {
        "token": piece.decode("utf-8", errors="replace"),
        "logprob": logprob,
        "bytes": list(piece),
    }
