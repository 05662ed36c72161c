"""`PiiScanner`: the one object the pipeline builds at start-up and calls per request.

    scanner = PiiScanner()            # fast recognizers compiled; name model not loaded yet
    scanner.load()                    # optional: load the name model now instead of on first use
    findings = scanner.scan_request(req, include_model=decision_may_go_to_cloud)

`scan` (patterns + validators + context) is cheap and always run; `scan_model` (a name model for
PERSON/LOCATION, see `policies.pii.ner`) is the costlier part, run only when `include_model` is
true. The scanner holds
no per-request state, so one instance serves all requests from any thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from kernel.types import ChatRequest
from policies.pii.findings import Finding, RequestFindings, SegmentFindings, resolve_overlaps
from policies.pii.ner import DEFAULT_MODEL_TYPES, MODEL_TYPES, NameEngine, NameModel
from policies.pii.recognizers import PATTERN_TYPES, ScanText, build_recognizers
from policies.pii.recognizers.base import group_anchored
from policies.pii.segments import Segment, iter_segments, model_view, percent_view

log = logging.getLogger(__name__)

DEFAULT_MIN_SCORE = 0.5
WINDOW_CHARS = 16_384  # long texts are scanned in windows of this size ...
WINDOW_OVERLAP = 512  # ... overlapping by this much (longest span + context kept whole)
SUPPORTED_TYPES = PATTERN_TYPES | MODEL_TYPES


class PiiScanner:
    """Detects PII in texts and requests; see the module docstring.

    `entities` limits detection to those types (default: every pattern type plus PERSON and
    LOCATION); `use_model=False` never loads or runs a name model, `engine` picks which one.
    Findings scoring below `min_score` are dropped (context-dependent candidates start below it).
    """

    def __init__(
        self,
        entities: Iterable[str] | None = None,
        *,
        use_model: bool = True,
        engine: NameEngine = "tagger",
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        wanted = frozenset(entities) if entities is not None else None
        if wanted is not None and (unknown := wanted - SUPPORTED_TYPES):
            raise ValueError(f"unknown PII entity types: {sorted(unknown)}")
        self.entities: frozenset[str] = (
            wanted if wanted is not None else PATTERN_TYPES | DEFAULT_MODEL_TYPES
        )
        self.min_score = min_score
        self._recognizers = group_anchored(build_recognizers(self.entities))
        model_types = self.entities & MODEL_TYPES
        self._ner = name_model(engine, model_types) if use_model and model_types else None

    @property
    def model_enabled(self) -> bool:
        """True when this scanner was asked to use the model (it may still be missing)."""
        return self._ner is not None

    @property
    def model_loaded(self) -> bool:
        """True once the name model is loaded and `scan_model` finds names and places."""
        return self._ner is not None and self._ner.loaded

    def load(self) -> bool:
        """Load the name model now (start-up) rather than on the first `scan_model`."""
        return self._ner.load() if self._ner is not None else False

    def scan(self, text: str) -> list[Finding]:
        """The fast part: pattern, validator and context recognizers. Non-overlapping, sorted.

        A long text is scanned in overlapping windows, so no single regex call runs long enough
        to hold the GIL against the event loop (one pass over 190k characters held it 47 ms).
        Every span of up to `WINDOW_OVERLAP` characters, with that much context before it, lies
        wholly inside some window; a span found twice in an overlap is kept once."""
        if not text:
            return []
        if len(text) <= WINDOW_CHARS + WINDOW_OVERLAP:
            return resolve_overlaps(self._scan_window(text, 0))
        found: list[Finding] = []
        for start in range(0, len(text), WINDOW_CHARS):
            window = text[start : start + WINDOW_CHARS + WINDOW_OVERLAP]
            found.extend(self._scan_window(window, start))
        return resolve_overlaps(found)

    def _scan_window(self, text: str, offset: int) -> list[Finding]:
        st = ScanText(text)
        return [
            f if not offset else replace(f, start=f.start + offset, end=f.end + offset)
            for r in self._recognizers
            for f in r.find(st)
            if f.score >= self.min_score and f.entity_type in self.entities
        ]

    def scan_model(self, text: str) -> list[Finding]:
        """The model part only (PERSON, LOCATION): empty when the model is off or missing."""
        if self._ner is None or not text:
            return []
        return self._ner.find(text)

    def scan_text(self, text: str, *, include_model: bool) -> list[Finding]:
        """Both parts merged; where they overlap, the pattern finding (validated) wins."""
        found = self.scan(text)
        if include_model:
            found = _merge(found, self.scan_model(text))
        return found

    def scan_request(self, req: ChatRequest, *, include_model: bool) -> RequestFindings:
        """Scan every text the request carries (`segments.iter_segments`): every message of
        every role (string content, text parts, tool-call arguments, `name`), tool descriptions
        and the `user` field. Context words and split values carry across message and part
        boundaries; percent-encoded text is decoded too; the model part reads tool-call JSON
        values and names."""
        segments: list[SegmentFindings] = []
        for seg in iter_segments(req):
            found = self.scan_segment(seg, include_model=include_model)
            if found:
                segments.append(
                    SegmentFindings(seg.message_index, seg.kind, seg.index, tuple(found))
                )
        result = RequestFindings(tuple(segments), model_checked=include_model and self.model_loaded)
        if result:
            log.debug("pii scan: %s", result.counts)  # types and counts only, never values
        return result

    def scan_segment(self, seg: Segment, *, include_model: bool) -> list[Finding]:
        """One segment: the fast part over its text (after its context), the model part over
        its `model_view`; offsets are the segment's own."""
        found = self._scan_in_context(seg)
        if include_model:
            view = model_view(seg)
            model = [
                Finding(m.entity_type, *view.raw_span(m.start, m.end), m.score)
                for m in self.scan_model(view.text)
            ]
            found = _merge(found, model)
        return found

    def _scan_in_context(self, seg: Segment) -> list[Finding]:
        found = self._scan_with_context(seg)
        view = percent_view(seg.text)
        if view is None:
            return found
        decoded = [
            Finding(f.entity_type, *view.raw_span(f.start, f.end), f.score)
            for f in self.scan(view.text)
        ]
        return _merge(found, decoded)

    def _scan_with_context(self, seg: Segment) -> list[Finding]:
        if not seg.context_before and not seg.context_after:
            return self.scan(seg.text)
        shift, end = len(seg.context_before), len(seg.context_before) + len(seg.text)
        out = []
        for f in self.scan(seg.context_before + seg.text + seg.context_after):
            if f.end > shift and f.start < end:  # the part of it inside this segment
                out.append(
                    Finding(
                        f.entity_type, max(f.start, shift) - shift, min(f.end, end) - shift, f.score
                    )
                )
        return out


def _merge(found: list[Finding], model: list[Finding]) -> list[Finding]:
    """Pattern findings plus the model findings that overlap none of them."""
    extra = [m for m in model if all(m.end <= f.start or m.start >= f.end for f in found)]
    return resolve_overlaps([*found, *extra]) if extra else found


def name_model(engine: NameEngine, entities: Iterable[str]) -> NameModel:
    """The name model of `engine` for `entities` (not loaded yet)."""
    if engine == "spacy":
        from policies.pii.ner_spacy import SpacyNer

        return SpacyNer(entities=entities)
    from policies.pii.ner_tagger import NameTagger

    return NameTagger(entities=entities)
