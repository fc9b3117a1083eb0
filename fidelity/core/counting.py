"""Joint counts of two holders' keys: dense tables for small key spaces, sorting otherwise.

Each holder is counted on its own (in its own thread for large inputs), then the two
sorted (key, count) lists are merged. A holder's keys are counted one of two ways:

- **dense**, when the key space (largest key + 1, or the product of the radices) is at
  most :data:`DENSE_MAX_CELLS` and at most :data:`DENSE_CELLS_PER_KEY` times the number
  of keys: one pass adds 1 to ``table[key]`` (no sort), then one pass over the table
  emits the non-zero cells in key order. On the paper's 229-song catalog the (s, s')
  table has 52,441 cells and stays in the L2 cache.
- **sorted**: NumPy's SIMD sort, then run lengths (the path for large catalogs, where a
  table would be sparse and outgrow the caches).

Both give the same keys in the same (increasing) order with the same counts, so the
choice is made automatically and never changes a result. The kernels release the GIL
and the two holders run in Python threads, not numba's ``parallel=True`` threading
layers, so the code stays safe in forked worker processes.

The counting of code columns, with packing and range checks fused into the pass, is in
:mod:`fidelity.core.column_counts`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from fidelity.core.histogram import _merge

#: Largest key space (cells per holder) counted in a dense table (64 MiB of uint32).
DENSE_MAX_CELLS = 1 << 24
#: A holder's keys are counted densely only when the key space is at most this many
#: times its number of keys. Measured (benchmarks/README.md, bench_core): the table wins
#: up to about one cell per key and loses from two (10^5-10^7 keys, uniform or skewed),
#: and at one cell per key the uint32 table is no larger than the uint32 keys.
DENSE_CELLS_PER_KEY = 1
#: Keys per holder from which the two holders are counted in two threads by default
#: (below it a thread costs more than it saves).
THREAD_MIN_KEYS = 1 << 18

METHODS = ("auto", "dense", "sort")
_PREFIX = 4096  # keys looked at before the full scan for the largest key


# ----------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def _run_count_kernel(sorted_keys):
    """Number of runs of equal keys in a sorted array (branch-free)."""
    n = sorted_keys.shape[0]
    m = 1 if n else 0
    for i in range(1, n):
        m += sorted_keys[i] != sorted_keys[i - 1]
    return m


@njit(cache=True, nogil=True)
def _runs_fill_kernel(sorted_keys, keys, counts):
    """Distinct keys and run lengths of a sorted array into preallocated outputs."""
    n = sorted_keys.shape[0]
    if n == 0:
        return
    r = 0
    start = 0
    keys[0] = sorted_keys[0]
    for i in range(1, n):
        if sorted_keys[i] != sorted_keys[i - 1]:
            counts[r] = i - start
            r += 1
            keys[r] = sorted_keys[i]
            start = i
    counts[r] = n - start


@njit(cache=True, nogil=True)
def _dense_count_kernel(keys, table):
    """``table[keys[i]] += 1`` for every key; keys must be < ``len(table)``."""
    for i in range(keys.shape[0]):
        table[keys[i]] += 1


@njit(cache=True, nogil=True)
def _nonzero_cells_kernel(table):
    m = 0
    for k in range(table.shape[0]):
        m += table[k] != 0
    return m


@njit(cache=True, nogil=True)
def _dense_fill_kernel(table, keys, counts):
    """Non-zero cells of ``table`` in increasing key order into preallocated outputs.

    Branch-free: every cell is written at the next free slot, which advances only past
    a non-zero cell, so the outputs need one slot more than the non-zero cells.
    """
    r = 0
    for k in range(table.shape[0]):
        c = table[k]
        keys[r] = k
        counts[r] = c
        r += c != 0


# ----------------------------------------------------------------------------- helpers
def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS!r}; got {method!r}")
    return method


def _check_threads(n_threads: int | None, n_a: int, n_t: int) -> int:
    if n_threads is None:
        big = min(n_a, n_t) >= THREAD_MIN_KEYS
        return 2 if big and _available_cores() >= 2 else 1
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)):
        raise TypeError(f"n_threads must be None or an integer >= 1; got {n_threads!r}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be None or an integer >= 1; got {n_threads!r}")
    return int(n_threads)


def use_dense(space: int, n_keys: int) -> bool:
    """Whether ``n_keys`` keys in ``[0, space)`` are counted in a dense table (``"auto"``).

    True when ``space <= DENSE_MAX_CELLS`` and ``space <= DENSE_CELLS_PER_KEY * n_keys``.
    """
    return n_keys > 0 and space <= DENSE_MAX_CELLS and space <= DENSE_CELLS_PER_KEY * n_keys


def _choose_dense(method: str, space: int, n_keys: int, what: str) -> bool:
    if method == "dense":
        if space > DENSE_MAX_CELLS:
            raise ValueError(
                f"method='dense' needs a key space of at most DENSE_MAX_CELLS = "
                f"{DENSE_MAX_CELLS} cells; {what} spans {space}"
            )
        return n_keys > 0
    return method == "auto" and use_dense(space, n_keys)


def _new_table(space: int, n_keys: int) -> np.ndarray:
    # allocated by NumPy (huge pages for large tables), filled by the kernel
    return np.zeros(space, dtype=np.uint32 if n_keys < 2**32 else np.uint64)


def _sorted_runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = _run_count_kernel(sorted_keys)
    keys = np.empty(m, dtype=np.uint64)
    counts = np.empty(m, dtype=np.int64)
    _runs_fill_kernel(sorted_keys, keys, counts)
    return keys, counts


def _table_runs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = _nonzero_cells_kernel(table)
    keys = np.empty(m + 1, dtype=np.uint64)  # one spare slot for the branch-free fill
    counts = np.empty(m + 1, dtype=np.int64)
    _dense_fill_kernel(table, keys, counts)
    return keys[:m], counts[:m]


def _space(keys: np.ndarray) -> int:
    return int(keys.max()) + 1 if keys.size else 0


def _key_runs(keys: np.ndarray, overwrite: bool, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and counts of one holder (dense table or sort + run lengths).

    Every step releases the GIL, so two holders run concurrently in two threads.
    """
    arr = np.asarray(keys)
    if arr.dtype not in (np.uint32, np.uint64):
        arr = arr.astype(np.uint64)
    arr = np.ascontiguousarray(arr)
    # A prefix whose largest key already rules the table out spares the full scan.
    if method == "dense" or (method == "auto" and use_dense(_space(arr[:_PREFIX]), arr.size)):
        space = _space(arr)
        if _choose_dense(method, space, arr.size, "the largest key + 1"):
            table = _new_table(space, arr.size)
            _dense_count_kernel(arr, table)
            return _table_runs(table)
    if overwrite and arr is keys and arr.flags.writeable:
        arr.sort()
    else:
        arr = np.sort(arr)
    return _sorted_runs(arr)


def _in_two_threads(func, args_a: tuple, args_t: tuple, n_threads: int) -> tuple:
    """``(func(*args_a), func(*args_t))``, A in a second thread when ``n_threads >= 2``."""
    if n_threads >= 2:
        with ThreadPoolExecutor(max_workers=1) as pool:  # A there, T here
            result_a = pool.submit(func, *args_a)
            result_t = func(*args_t)
            return result_a.result(), result_t
    return func(*args_a), func(*args_t)


def _both_holders(func, args_a: tuple, args_t: tuple, n_threads: int) -> tuple:
    """Merged ``(keys, counts_a, counts_t)`` of ``func``'s per-holder (keys, counts, ...).

    Whatever ``func`` returns after its keys and counts follows, A's then T's.
    """
    res_a, res_t = _in_two_threads(func, args_a, args_t, n_threads)
    (keys_1, counts_1, *extra_a), (keys_2, counts_2, *extra_t) = res_a, res_t
    merged = _merge(
        keys_1, counts_1, np.zeros_like(counts_1), keys_2, np.zeros_like(counts_2), counts_2
    )
    return (*merged, *extra_a, *extra_t)


# ----------------------------------------------------------------------------- public
def joint_counts_sorting(
    keys_a: np.ndarray,
    keys_t: np.ndarray,
    *,
    overwrite: bool = False,
    n_threads: int | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Same result as :func:`joint_counts`, by dense tables or sorting (no hash table).

    Each holder's keys are counted in a dense table when their key space (largest key
    + 1) is small (see :func:`use_dense`), otherwise sorted (NumPy's SIMD sort) and
    run-length counted; the two holders are then merged. The result does not depend on
    the path taken.

    Parameters
    ----------
    keys_a, keys_t : ndarray of uint32 or uint64
        Observation keys of holder A and holder T.
    overwrite : bool, default False
        The given arrays may be used as scratch space (the sort path sorts them in place
        when they are contiguous ``uint32`` or ``uint64``, see
        ``pack_columns(compact=True)``); their content afterwards is unspecified.
        Without it the inputs are never modified.
    n_threads : int or None, default None
        ``2`` counts the two holders concurrently in two threads (every kernel releases
        the GIL), ``1`` one after the other. ``None``: two threads when at least two
        cores are available and each holder has :data:`THREAD_MIN_KEYS` keys or more.
        Threads, not numba's ``parallel=True``, so it stays safe in forked workers.
    method : {"auto", "dense", "sort"}, default "auto"
        ``"auto"`` chooses per holder; ``"dense"`` and ``"sort"`` force a path (for
        tests and benchmarks; ``"dense"`` raises ``ValueError`` when the key space
        exceeds :data:`DENSE_MAX_CELLS`).

    Returns
    -------
    keys : ndarray of uint64, shape (m,)
        Sorted distinct keys present in A or T.
    counts_a, counts_t : ndarray of int64, shape (m,)
    """
    method = _check_method(method)
    n_threads = _check_threads(n_threads, np.size(keys_a), np.size(keys_t))
    return _both_holders(
        _key_runs, (keys_a, overwrite, method), (keys_t, overwrite, method), n_threads
    )
