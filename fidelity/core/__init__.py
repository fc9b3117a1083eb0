"""Numba kernels of fidelity (the only place numba is used).

Every kernel is compiled once with ``@njit(cache=True)`` and has a plain-NumPy
reference twin in :mod:`fidelity.core.reference`, checked by property tests. The
functions exported here coerce dtypes and call the kernels; they do not validate
(the public wrappers in :mod:`fidelity.metrics` and :mod:`fidelity.information` do),
except :func:`joint_counts_columns` and :func:`joint_counts_with_runs`, whose counting
pass checks every code against its radix (a dense table must never be indexed out of
bounds).
"""

from fidelity.core.aggregate import (
    count_common,
    count_runs,
    run_aggregate,
    run_values,
    segment_count,
    segment_mean,
    segment_sum,
)
from fidelity.core.column_counts import joint_counts_columns, joint_counts_with_runs
from fidelity.core.counting import joint_counts_sorting, use_dense
from fidelity.core.hashing import count_keys, joint_counts, unique_inverse
from fidelity.core.histogram import (
    check_radices,
    code_range,
    merge_counts,
    pack_codes,
    pack_columns,
    unit_counts,
    unpack_columns,
)
from fidelity.core.hits import confusion_counts, hit_rank, topk_hits
from fidelity.core.mi import binary_entropy, mi_from_counts, miller_madow_bias
from fidelity.core.rows import sum_table_rows

__all__ = [
    "binary_entropy",
    "check_radices",
    "code_range",
    "confusion_counts",
    "count_common",
    "count_keys",
    "count_runs",
    "hit_rank",
    "joint_counts",
    "joint_counts_columns",
    "joint_counts_sorting",
    "joint_counts_with_runs",
    "merge_counts",
    "mi_from_counts",
    "miller_madow_bias",
    "pack_codes",
    "pack_columns",
    "run_aggregate",
    "run_values",
    "segment_count",
    "segment_mean",
    "segment_sum",
    "sum_table_rows",
    "topk_hits",
    "unique_inverse",
    "unit_counts",
    "unpack_columns",
    "use_dense",
]
