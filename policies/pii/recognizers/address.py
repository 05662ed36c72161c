"""Street addresses by shape: "221B Baker Street, Apt 4", "Hauptstraße 5", "12 rue de Rivoli",
"Springfield, IL 62704", "PO Box 123", plus unit lines ("Suite 203") next to them.

Pieces are found separately and merged when only commas, spaces or a line break separate them,
so a multi-line postal address becomes one STREET_ADDRESS span. A street line needs a house
number *and* a street word; the common suffixes (Street, Ave, Road…) suffice alone, the rarer
USPS ones (Shoals, Crossing…) need a unit, a city/state/ZIP line or an address word nearby.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.pii.findings import Finding
from policies.pii.recognizers.base import REFERENCE_WORDS, ScanText, words_regex

_COMMON = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|Close|"
    "Alley|Aly|Plaza|Plz|Pike|Loop|Row|Mews|Walk|Way|Gardens|Grove|Expressway|Expy|Freeway|"
    "Turnpike|Tpke|Causeway|Str"
)
_RARE = (
    "Branch|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|Canyon|Cape|Center|Centers|Circles|Cliff|"
    "Cliffs|Club|Common|Corner|Corners|Course|Courts|Cove|Coves|Creek|Crest|Crossing|Crossroad|"
    "Curve|Dale|Dam|Divide|Drives|Estate|Estates|Extension|Extensions|Fall|Falls|Ferry|Field|"
    "Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Garden|Gateway|Glen|Glens|"
    "Green|Greens|Groves|Harbor|Harbors|Haven|Heights|Hill|Hills|Hollow|Inlet|Island|Islands|Isle|"
    "Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Light|Lights|Loaf|Lock|"
    "Locks|Lodge|Mall|Manor|Manors|Meadow|Meadows|Mill|Mills|Mission|Motorway|Mount|Mountain|"
    "Mountains|Neck|Orchard|Oval|Overpass|Park|Parks|Parkways|Pass|Passage|Path|Pine|Pines|Plain|"
    "Plains|Point|Points|Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|"
    "River|Roads|Route|Rue|Run|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spur|Spurs|Squares|"
    "Station|Stravenue|Stream|Streets|Summit|Throughway|Trace|Track|Trafficway|Tunnel|Underpass|"
    "Union|Unions|Valley|Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Walks|Wall|"
    "Ways|Well|Wells"
)
_NAME = r"(?:[A-Z][\w'’.-]*|[0-9]{1,3}(?:st|nd|rd|th))"
_DIRECTION = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
_NUMBER = r"\d{1,6}(?:-\d{1,4})?[A-Za-z]?"
_STREET_US = re.compile(
    rf"(?<![\w.,/-]){_NUMBER}\s+{_DIRECTION}(?:{_NAME}\s+){{1,4}}"
    rf"(?:(?P<common>{_COMMON})|(?P<rare>{_RARE}))\b\.?"
)
# Germanic/Nordic compounds: "Hauptstraße 5", "Simavikveien 231", "Keizersgracht 123-2".
_STREET_COMPOUND = re.compile(
    r"(?<![\w-])[A-ZÄÖÜÅØÆ][\wäöüßåøæ'-]*(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|"
    r"damm|ufer|veien|vegen|vei|gata|gatan|gade|vej|vägen|laan|straat|plein|kade|gracht|steeg|"
    r"singel|baan|dreef|dijk|boulevard|tie|katu)\s+\d{1,5}[a-zA-Z]?(?:[-/]\d{1,4})?\b"
)
# Romance prefix style: "12 rue de Rivoli", "Via Goffredo Mameli 149", "Calle de Alcalá 50".
# With the house number after the name, the name may be lower case (the number ends it); with
# the number before, name words after the first must be capitalised (or prose would follow).
_ROMANCE = (
    r"(?i:rue|via|viale|piazza|corso|calle|avenida|av\.|rua|carrer|paseo|largo|travessa|"
    r"avinguda|boulevard|chemin|allée|place|impasse|quai|ulica|ul\.)"
    r"\s+(?:(?i:de|del|della|delle|di|da|do|dos|das|des|du|la|le|les)\s+)?"
)
_RWORD = r"[A-Za-zÀ-ÿ][\wÀ-ÿ'’.-]*"
_STREET_PREFIX_POST = re.compile(
    rf"(?<![\w-]){_ROMANCE}(?:{_RWORD}\s+){{0,3}}{_RWORD},?\s+\d{{1,5}}[a-z]?\b"
)
_STREET_PREFIX_PRE = re.compile(
    rf"(?<![\w-])\d{{1,5}}[a-z]?,?\s+{_ROMANCE}{_RWORD}(?:\s+[A-ZÀ-Ý][\wÀ-ÿ'’.-]*){{0,3}}"
)
_ROMANCE_KEYS = (
    *("rue ", "via ", "viale ", "piazza ", "corso ", "calle ", "avenida ", "av. ", "rua "),
    *("carrer ", "paseo ", "largo ", "travessa ", "avinguda ", "boulevard ", "chemin "),
    *("allée ", "place ", "impasse ", "quai ", "ulica ", "ul. "),
)
_ROMANCE_HINT = re.compile("|".join(re.escape(k) for k in _ROMANCE_KEYS))
_COMPOUND_ENDINGS = (
    *("straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer"),
    *("veien", "vegen", "vei", "gata", "gatan", "gade", "vej", "vägen", "laan", "straat"),
    *("plein", "kade", "gracht", "steeg", "singel", "baan", "dreef", "dijk", "boulevard"),
    *("tie", "katu"),
)
_UNIT = re.compile(
    r"(?<![\w-])(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm|Floor|Fl|Bldg|Building)\.?\s*"
    r"#?\s?\d{1,5}[A-Za-z]?(?![\w-])|(?<![\w])#\d{1,5}[A-Za-z]?(?![\w-])"
)
_STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    "NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|GU|VI|AS|MP"
)
_CITY_STATE_ZIP = re.compile(
    rf"(?<![\w-])(?:[A-Z][\w'.-]*\s){{0,3}}[A-Z][\w'.-]*,\s(?:{_STATE_CODES})\s\d{{5}}(?:-\d{{4}})?(?!\w)"
)
_UNIT_HINT = re.compile(r"apt|suite|ste|unit|flat|room|rm|fl|bldg|#")
_STATES = frozenset(_STATE_CODES.split("|"))
_PO_BOX = re.compile(r"(?i:(?<![\w])P\.?\s?O\.?\s?Box|Post Office Box)\s+\d{1,8}(?![\w-])")
_ADDRESS_WORDS = words_regex(
    "address",
    "live",
    "lives",
    "living",
    "located",
    "reside",
    "resides",
    "moved",
    "ship",
    "shipping",
    "deliver",
    "delivery",
    "mail",
    "send",
    "visit",
    "office",
    "home",
    "billing",
)
# Lines of a postal block that only count next to a street or unit piece (scores < 0.5):
# "35 Kromwater 38", "Camiño Ancho 91" (name + number), "Gabon 66298" (place + postcode),
# "El Tornadizo" (a short capitalised line).
# Matched one line at a time (pos/endpos = the line), so `$` is the end of the line.
_NAME_NUMBER_LINE = re.compile(
    r"[ \t>?]*(?:\d{1,5}\s+)?[A-ZÀ-Ý][\w'’.-]*(?:[ ][\w'’.-]+){0,3}[ ]\d{1,5}[a-z]?[ \t]*$"
)
_PLACE_POSTCODE = re.compile(r"[A-ZÀ-Ý][\w'’ .-]{1,40}[ ]\d{4,5}[ \t]*$")
_PLACE_LINE = re.compile(r"[ \t>?]*[A-ZÀ-Ý][\w'’.-]*(?:[ ][A-ZÀ-Ý][\w'’.-]*){0,3}[ \t]*$")
_Piece = tuple[int, int, float, bool]  # start, end, score, is a street line
_JOIN_GAP = re.compile(r"[\s,>?]{0,6}")  # what may separate two pieces of one address


def _trim(text: str, group: list[_Piece]) -> list[_Piece]:
    """Drop weak lines before the first real piece (a name or company line above a street is
    not part of the address), then leading whitespace/quote markers."""
    first = next((i for i, p in enumerate(group) if p[2] >= 0.4), 0)
    group = sorted(group[first:])
    start, end, score, street = group[0]
    while start < end and text[start] in " \t>?":
        start += 1
    return [(start, end, score, street), *group[1:]]


def _line_pieces(text: str, lo: int, hi: int) -> Iterator[_Piece]:
    """The weak line pieces of the lines overlapping text[lo:hi] (at most one per line)."""
    pos = text.rfind("\n", 0, lo) + 1
    while pos < hi:
        nl = text.find("\n", pos)
        end = len(text) if nl == -1 else nl
        if end > pos:
            if m := _NAME_NUMBER_LINE.match(text, pos, end):
                yield (m.start(), m.end(), 0.4, False)
            elif m := _PLACE_POSTCODE.search(text, pos, end):
                yield (m.start(), m.end(), 0.3, False)
            elif m := _PLACE_LINE.match(text, pos, end):
                yield (m.start(), m.end(), 0.0, False)
        pos = end + 1


class AddressRecognizer:
    """Postal street addresses (see module docstring); entity type STREET_ADDRESS."""

    entity_types = frozenset({"STREET_ADDRESS"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        text, lower, n = st.text, st.lower, len(st.text)
        if not st.digit_groups:
            return  # every piece of an address that counts alone has a number
        romance = st.has_any(_ROMANCE_KEYS)
        pieces: list[_Piece] = []
        for start, end in st.digit_groups:
            if end - start > 6:
                continue
            follow = text[end : end + 2]
            if follow[:1] == " " or (follow[:1].isalpha() and follow[1:] == " "):
                if m := _STREET_US.match(text, start):
                    pieces.append((start, m.end(), 0.75 if m.group("common") else 0.45, True))
                elif romance and (m := _STREET_PREFIX_PRE.match(text, start)):
                    pieces.append((start, m.end(), 0.65, True))
            unit = _UNIT_HINT.search(lower, max(0, start - 12), start)
            if unit and (m := _UNIT.search(text, max(0, start - 12), min(n, end + 2))):
                pieces.append((m.start(), m.end(), 0.45, False))
            if start >= 2 and text[start - 1] == " ":
                word_start = text.rfind(" ", 0, start - 1) + 1
                word = lower[word_start : start - 1]
                if word.endswith(_COMPOUND_ENDINGS):
                    if m := _STREET_COMPOUND.match(text, word_start):
                        pieces.append((word_start, m.end(), 0.7, True))
                elif romance and _ROMANCE_HINT.search(lower, max(0, start - 50), start):
                    for m in _STREET_PREFIX_POST.finditer(
                        text, max(0, start - 50), min(n, end + 2)
                    ):
                        if m.end() >= end:
                            pieces.append((m.start(), m.end(), 0.65, True))
                            break
                if end - start == 5 and text[start - 3 : start - 1] in _STATES:
                    for m in _CITY_STATE_ZIP.finditer(text, max(0, start - 60), min(n, end + 6)):
                        if m.end() >= end:
                            pieces.append((m.start(), m.end(), 0.7, False))
                            break
        i = lower.find("box")
        while i != -1:  # PO boxes: only around the word "box"
            if m := _PO_BOX.search(text, max(0, i - 14), min(n, i + 14)):
                pieces.append((m.start(), m.end(), 0.8, True))
            i = lower.find("box", i + 3)
        if not pieces:
            return
        lo = max(0, min(p[0] for p in pieces) - 120)
        hi = min(n, max(p[1] for p in pieces) + 160)
        if "\n" in text[lo:hi]:
            pieces.extend(_line_pieces(text, lo, hi))
        yield from self._merge(st, pieces)

    @staticmethod
    def _merge(st: ScanText, pieces: list[_Piece]) -> Iterator[Finding]:
        pieces.sort()
        groups: list[list[_Piece]] = []
        group_end = -1
        for piece in pieces:
            if groups and (
                piece[0] < group_end or _JOIN_GAP.fullmatch(st.text, group_end, piece[0])
            ):
                groups[-1].append(piece)
                group_end = max(group_end, piece[1])
                continue
            groups.append([piece])
            group_end = piece[1]
        for group in groups:
            score = max(p[2] for p in group)
            if score < 0.2:
                continue  # only weak lines: even an address word could not make it count
            group = _trim(st.text, group)
            start = group[0][0]
            end = max(p[1] for p in group)
            if score >= 0.4 and sum(p[2] > 0 for p in group) > 1:
                score = min(1.0, score + 0.3)  # street + unit / city line: clearly an address
            if _ADDRESS_WORDS.search(st.before(start)):
                score = min(1.0, score + 0.3)
            if REFERENCE_WORDS.search(st.before(start, 16)) and len(group) == 1:
                continue
            if score >= 0.5:
                yield Finding("STREET_ADDRESS", start, end, score)
