"""Regenerate netdsl/frontend/parser_tables.py: the LALR tables of grammars/netdsl.lark as Python literals.

    python tools/build_parser.py           # rewrite the tables
    python tools/build_parser.py --check   # exit 1 if they were built from another grammar

The tables let `netdsl check` start fast without lark's pickle cache (nothing is ever unpickled).
lark numbers the parser states in set order, so two runs may write different (equivalent) tables.
tests/frontend/test_parser_tables.py fails until the tables match the grammar.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "netdsl" / "frontend" / "parser_tables.py"


def main() -> int:
    from netdsl.frontend.parser import grammar_digest, render_tables

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the tables are stale")
    args = parser.parse_args()
    grammar = (ROOT / "grammars" / "netdsl.lark").read_text(encoding="utf-8")
    if args.check:
        stale = not TABLES.exists() or f"GRAMMAR_SHA256 = {grammar_digest(grammar)!r}" not in TABLES.read_text()
        print(f"{TABLES.relative_to(ROOT)} is {'out of date' if stale else 'up to date'}")
        return int(stale)
    TABLES.write_text(render_tables(grammar), encoding="utf-8")
    print(f"wrote {TABLES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
