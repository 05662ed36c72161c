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
    """Pass as a llama.cpp logits processor; read with `content()` after the answer."""

    def __init__(self, top: int) -> None:
        self._top = top
        self._steps: list[tuple[npt.NDArray[np.intc], npt.NDArray[np.float32]]] = []
        self._chosen: list[tuple[int, float]] = []
        self._last: npt.NDArray[np.float32] | None = None

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
        """OpenAI's `logprobs.content`: one entry per token of `text`, with its alternatives."""
        chosen = list(self._chosen)
        want = text.encode("utf-8")
        have = b"".join(_piece(llm, t) for t, _ in chosen)
        if len(have) < len(want) and self._last is not None:  # the final token (max_tokens)
            last = _token_for(llm, want[len(have) :], self._steps[-1][0])
            if last is not None:
                chosen.append((last, float(self._last[last])))
        out: list[dict[str, Any]] = []
        used = 0
        for (token, logprob), (ids, values) in zip(chosen, self._steps, strict=False):
            piece = _piece(llm, token)
            if used + len(piece) > len(want):  # a stop sequence cut the text here
                break
            used += len(piece)
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
