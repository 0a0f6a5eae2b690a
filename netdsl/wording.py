"""Small pieces of the commands' English: plurals and file sizes."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """`1 epoch`, `3 epochs`."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def file_size(size: int) -> str:
    """`512 bytes`, `23.4 KB` below 1 MB, `1.2 MB`, `2.50 GB` (decimal units)."""
    if size < 1000:
        return plural(size, "byte")
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:.2f} GB" if unit == "GB" else f"{size / scale:.1f} MB"
    return f"{size / 1e3:.1f} KB"
