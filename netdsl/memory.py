"""Memory estimates made before allocating: a network or a file too big for this machine is one line."""

from __future__ import annotations

import os


class NotEnoughMemory(MemoryError):
    """An allocation that was estimated first and would not fit; the message is the one line to show."""


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux, else the free pages; 2**62 if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62


def size_text(n: int) -> str:
    """`3.2 GiB`, `12.0 MiB`, `800 bytes`; huge sizes as powers of ten of GiB."""
    if n >= 2**30 * 10**6:
        return f"{n // 2**30:.3g} GiB"
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def require_memory(nbytes: int, what: str) -> None:
    """Raise NotEnoughMemory, naming what needs it, when nbytes exceed the memory available now."""
    have = available_memory()
    if nbytes > have:
        raise NotEnoughMemory(f"{what} would take {size_text(nbytes)} of memory, more than the "
                              f"{size_text(have)} available")
