"""Running sweep configurations on an existing Dask cluster.

Dask is an optional dependency (``pip install fidelity[dask]``); it is imported
only when a scheduler is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _client(scheduler: Any):
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "a Dask scheduler was given but dask.distributed is not installed; "
            "install it with: pip install 'fidelity[dask]'"
        ) from err
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be a Dask scheduler address (e.g. 'tcp://10.0.0.1:8786') or a "
            f"dask.distributed.Client; got {type(scheduler).__name__}"
        )
    return Client(scheduler), True


def run_configs_on_dask(observations, grid, configs, *, scheduler: Any) -> Iterator[dict]:
    """Run configurations as Dask tasks and yield their rows as they finish.

    The observations are scattered once to every worker; each configuration is one
    task calling :func:`fidelity.experiment.run_config`, so a row computed on the
    cluster is identical to one computed locally.
    """
    from distributed import as_completed

    from fidelity.experiment import run_config

    client, owned = _client(scheduler)
    try:
        data = client.scatter(observations, broadcast=True)
        futures = [
            client.submit(run_config, data, c, grid, pure=False, key=f"fidelity-{c.config_id}")
            for c in configs
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        if owned:
            client.close()
