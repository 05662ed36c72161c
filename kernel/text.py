"""Which text of a request is scored and scanned, and a cheap token estimate."""

from __future__ import annotations

from kernel.types import ChatRequest

SCORED_CHARS = 4000


def scoring_text(req: ChatRequest, max_chars: int = SCORED_CHARS) -> str:
    """System/developer turns plus the last user turn, truncated to its last `max_chars`.

    The classifier judges the question being asked now, in the context the app set; earlier turns
    of a long chat would dilute it. The tail is kept because instructions usually end a prompt.
    """
    system = [m.text() for m in req.messages if m.role in ("system", "developer")]
    last_user = next((m.text() for m in reversed(req.messages) if m.role == "user"), "")
    text = "\n".join([*system, last_user]).strip()
    return text[-max_chars:]


def estimate_tokens(text: str) -> int:
    """About four characters per token for English BPE tokenizers; never less than one."""
    return tokens_for_chars(len(text))


def tokens_for_chars(chars: int) -> int:
    """`estimate_tokens` of a text of `chars` characters (for streams counted as they pass)."""
    return max(1, (chars + 3) // 4)


def estimate_prompt_tokens(req: ChatRequest) -> int:
    """`estimate_tokens` of all the text of a request's messages."""
    return estimate_tokens("".join(m.text() for m in req.messages))
