"""Process-level memory setting for fidelity's own worker processes.

A random forest of fully grown trees over a few hundred songs stores a dense class
distribution per node: about 1 GB per model in the paper's setup (20 trees of ~26,000
nodes x 229 songs, float64). glibc's ``malloc`` serves such blocks with fresh ``mmap``
regions and returns them to the kernel on ``free``, so every forest of a sweep
page-faults its whole gigabyte in again; on the 2-core development VM the kernel spent
~30 % of a forest's fit time in those faults (measured with ``getrusage``: 0.56 s of
2.05 s, ~295,000 minor faults per fit).

:func:`keep_freed_memory` asks glibc to serve all blocks from the process heap and
to keep freed memory mapped, so the next forest reuses pages that are already faulted
in (fit 1.13-1.22 s instead of 2.05-2.13 s in the same measurement). The price is that
the process keeps its peak resident size until it exits. fidelity calls it only in
processes it owns: the workers of :func:`fidelity.experiment.run_sweep` and the
``fidelity`` command line, never on import. Results do not depend on it. Set the
environment variable ``FIDELITY_KEEP_FREED_MEMORY=0`` to leave ``malloc`` as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

#: ``mallopt`` parameter numbers from glibc's ``malloc.h``.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_KEEP = 2**31 - 1  # largest int: never trim the heap top back to the kernel

_applied = False


def keep_freed_memory() -> bool:
    """Keep freed memory in the process heap for reuse (glibc only; idempotent).

    Returns
    -------
    bool
        True when the setting is in effect (Linux with glibc), False elsewhere or when
        ``FIDELITY_KEEP_FREED_MEMORY=0``, where nothing is changed.
    """
    global _applied
    if _applied:
        return True
    if os.environ.get("FIDELITY_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success. With M_MMAP_MAX = 0 large blocks come from the heap
    # (glibc still falls back to mmap if the heap cannot grow).
    _applied = mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _KEEP) == 1
    return _applied
