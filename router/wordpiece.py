"""`AsciiWordPiece`: the classifier's BERT WordPiece tokenizer for ASCII text, in plain Python.

The classifier ships a `tokenizer.json` for the `tokenizers` library (BERT uncased: a
`BertNormalizer` that lowercases, a `BertPreTokenizer`, a `WordPiece` model). For a short
prompt, `Tokenizer.encode` costs ~3x what this does (113 vs 36 us for the benchmark's
~40-token prompt, bench/bench_peers.py): most of it is crossing into Rust and building an
`Encoding` with offsets the classifier never reads. For ASCII text the BERT steps are simple
and exact here:

- normalize: control characters other than tab, newline and carriage return are dropped
  (0x00-0x08, 0x0B, 0x0C, 0x0E-0x1F, 0x7F); tab, newline and carriage return become spaces;
  letters are lowercased (ASCII has no accents to strip and no CJK to pad);
- pre-tokenize: split on spaces; every ASCII punctuation character is a word of its own;
- WordPiece: a vocabulary word as is, else the longest vocabulary prefix, then the longest
  `##` continuations; a word that cannot be covered, or is longer than `max_input_chars_per_word`,
  is `[UNK]`.

`encode` returns None for any non-ASCII text, and for text holding one of the tokenizer's added
tokens (`[UNK]`, `[CLS]`, ..., matched before normalization there, in any letter case here): the
caller uses `tokenizers` for those (Unicode normalization, accents, CJK and added tokens are its
job). `from_file` returns None unless `tokenizer.json`
has exactly the configuration above, so a different tokenizer never takes this path.
tests/router/test_wordpiece.py checks the ids against `tokenizers` on seeded random ASCII.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Self

_CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
_NORMALIZE = str.maketrans({**dict.fromkeys(_CONTROL), "\t": " ", "\n": " ", "\r": " "})
_WORDS = re.compile(r"[A-Za-z0-9]+|[^ A-Za-z0-9]")  # after _NORMALIZE: no other whitespace left
_BERT_NORMALIZER = {
    "type": "BertNormalizer",
    "clean_text": True,
    "handle_chinese_chars": True,
    "strip_accents": None,
    "lowercase": True,
}


class AsciiWordPiece:
    """Token ids of ASCII text, identical to the `tokenizers` WordPiece of the same file."""

    def __init__(
        self,
        vocab: dict[str, int],
        *,
        unk: str,
        prefix: str,
        max_word_chars: int,
        added: tuple[str, ...] = (),
    ) -> None:
        self._words = vocab
        self._added = tuple(token.lower() for token in added)
        self._continuations = {
            piece.removeprefix(prefix): i for piece, i in vocab.items() if piece.startswith(prefix)
        }
        self._unk = vocab[unk]
        self._max_word_chars = max_word_chars

    @classmethod
    def from_file(cls, path: Path) -> Self | None:
        """The fast path for `path` (a `tokenizer.json`), or None when its pipeline is not
        BERT-uncased WordPiece as described in the module docstring."""
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        model = spec.get("model") or {}
        if (
            spec.get("normalizer") != _BERT_NORMALIZER
            or spec.get("pre_tokenizer") != {"type": "BertPreTokenizer"}
            or model.get("type") != "WordPiece"
            or model.get("unk_token") not in model.get("vocab", {})
            or not model.get("continuing_subword_prefix")
        ):
            return None
        return cls(
            model["vocab"],
            unk=model["unk_token"],
            prefix=model["continuing_subword_prefix"],
            max_word_chars=int(model["max_input_chars_per_word"]),
            added=tuple(token["content"] for token in spec.get("added_tokens") or []),
        )

    def encode(self, text: str, limit: int) -> list[int] | None:
        """The ids of `text` (no special tokens), at most `limit`; None when `text` is not ASCII
        or holds an added token."""
        if not text.isascii():
            return None
        normalized = text.translate(_NORMALIZE).lower()
        if self._added and self._holds_added(text.lower(), normalized):
            return None
        ids: list[int] = []
        for word in _WORDS.findall(normalized):
            whole = self._words.get(word)
            if whole is not None:
                ids.append(whole)
            else:
                ids.extend(self._pieces(word))
            if len(ids) >= limit:
                break
        return ids[:limit]

    def _holds_added(self, *texts: str) -> bool:
        return any(token in text for token in self._added for text in texts)

    def _pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece of one word not in the vocabulary as a whole."""
        if len(word) > self._max_word_chars:
            return [self._unk]
        pieces: list[int] = []
        table, start, n = self._words, 0, len(word)
        while start < n:
            for end in range(n, start, -1):
                found = table.get(word[start:end])
                if found is not None:
                    break
            else:
                return [self._unk]
            pieces.append(found)
            table, start = self._continuations, end
        return pieces
