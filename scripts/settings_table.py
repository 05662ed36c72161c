"""Regenerate the README's settings table from `gateway.settings.Settings` (one source of truth).

.venv/bin/python scripts/settings_table.py          # rewrite README.md in place
.venv/bin/python scripts/settings_table.py --check  # exit 1 if the README is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gateway.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- settings-table:start -->\n).*?(<!-- settings-table:end -->)", re.S)


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else f"`{field.default}`"
        rows.append(f"| `HYBRIDGW_{name.upper()}` | {default} | {field.description or ''} |")
    return "\n".join(rows) + "\n"


def main() -> int:
    text = README.read_text()
    updated = BLOCK.sub(lambda m: m.group(1) + table() + m.group(2), text)
    if "--check" in sys.argv:
        return 0 if updated == text else 1
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
