"""The one place fidelity talks to Dask: clients, computing collections, tree reductions.

Dask is an optional dependency (``pip install 'fidelity-leakage[dask]'``); it is imported
only when a function here is called. Every function that takes ``scheduler`` accepts the
address of a running scheduler (``"tcp://10.0.0.1:8786"``) or a
``dask.distributed.Client``; ``None`` uses Dask's current scheduler (the active client, if
any). The layers above (lazy data, partitioned MI, sweeps) use only these helpers, so a
change of Dask API touches one module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compute", "dask_dataframe", "delayed", "get_client", "run_tasks", "tree_reduce"]


def _import(module: str, extra: str = "dask") -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            f"this needs {module.split('.')[0]}; install it with: "
            f"pip install 'fidelity-leakage[{extra}]'"
        ) from err


def dask_dataframe() -> Any:
    """The ``dask.dataframe`` module (a clear ImportError when Dask is not installed)."""
    return _import("dask.dataframe")


def delayed(func: Callable[..., Any], *, pure: bool = True) -> Callable[..., Any]:
    """``dask.delayed(func, pure=pure)``."""
    return _import("dask").delayed(func, pure=pure)


def get_client(scheduler: Any) -> tuple[Any, bool]:
    """Return ``(client, owned)`` for a scheduler address or a Client.

    ``owned`` is True when a new client was opened here (the caller closes it).

    Raises
    ------
    TypeError
        When ``scheduler`` is neither a string address nor a ``Client``.
    ValueError
        When no scheduler answers at the address.
    ImportError
        When dask.distributed is not installed.
    """
    client_type = _import("distributed").Client
    if isinstance(scheduler, client_type):
        return scheduler, False
    if not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be a Dask scheduler address (e.g. 'tcp://10.0.0.1:8786') or a "
            f"dask.distributed.Client; got {type(scheduler).__name__}"
        )
    try:
        return client_type(scheduler, set_as_default=False), True
    except OSError as err:
        raise ValueError(
            f"scheduler={scheduler!r}: cannot connect to a Dask scheduler there ({err})"
        ) from None


def compute(obj: Any, *, scheduler: Any = None) -> Any:
    """Compute a Dask collection (or a list of them) on ``scheduler`` or Dask's default.

    A client opened here for an address is closed again before returning (a client left
    open keeps reconnecting in the background after its cluster is gone).
    """
    dask = _import("dask")
    if scheduler is None:
        if isinstance(obj, list):
            return list(dask.compute(*obj))
        return dask.compute(obj)[0]
    client, owned = get_client(scheduler)
    try:
        if isinstance(obj, list):
            return client.gather(client.compute(obj))
        return client.compute(obj).result()
    finally:
        if owned:
            client.close()


def tree_reduce(parts: list[Any], combine: Callable[[list[Any]], Any], *, split_every: int = 8):
    """One delayed object combining ``parts`` in a tree of fan-in ``split_every``.

    ``combine`` takes a list of partial results and returns one; it must be associative
    (sparse histograms, count tables and sums are). A single part is returned as it is.
    """
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2; got {split_every!r}")
    step = delayed(combine)
    if not parts:
        return step([])
    while len(parts) > 1:
        parts = [step(parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def run_tasks(
    func: Callable[..., Any], items: list[Any], *, shared: Any, scheduler: Any, key: Callable
):
    """Run ``func(shared, item)`` as one Dask task per item; yield results as they finish.

    ``shared`` is scattered once to every worker (``hash=False``: a fresh key per call, so
    two runs on one client never race on a key another client is still releasing).
    ``key(item)`` names each task. When a task fails, the remaining tasks are cancelled and
    its error is raised.
    """
    as_completed = _import("distributed").as_completed
    client, owned = get_client(scheduler)
    futures: list[Any] = []
    try:
        data = client.scatter(shared, broadcast=True, hash=False)
        futures = [client.submit(func, data, item, pure=False, key=key(item)) for item in items]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if owned:
            client.close()
