"""Audit your own recommender: every attack its answers allow, on your own data.

A team that trained a next-song model outside fidelity audits it in one call::

    result = fidelity.audit.audit(model, members=train_data, non_members=other_data)
    result.summary()

- ``model`` is the **fitted** model, in any form
  :func:`fidelity.recommenders.adapt_model` accepts: an object with
  ``recommend(items, timing, k)`` (:class:`~fidelity.recommenders.NextItemModel`: the
  ``label`` and ``topk`` threat models), with ``score(items, timing)`` or ``score_next``
  (:class:`~fidelity.recommenders.ScoringModel`: also ``scores``), a fitted scikit-learn
  classifier with ``predict_proba`` (features: song code and timing columns; classes:
  next songs), a plain callable, or a fidelity recommender.
- ``members`` are observations of users the model was trained on (by default its whole
  training data), ``non_members`` observations of other users of the same population,
  in the same song vocabulary (split one table with ``select_users``); or pass an
  already built :class:`~fidelity.split.ProviderSplit` as ``split``.
- ``template`` is the algorithm (a fidelity recommender name or unfitted recommender, an
  unfitted scikit-learn classifier, or ``train(observations) -> fitted model``): the
  reference, shadow and RMIA attacks train models of the target's kind and run only
  with it; without it the audit runs the others (match, mimic) and says so.

Every registered attack runs under every threat model the model's answers allow (and
the attack supports), with the same seeds and shared reference models as
:func:`fidelity.evaluation.session_curve`, which also gives the leakage against session
length and the attack-validated safe session size (``curve=True``).
"""

from __future__ import annotations

from fidelity.audit.data import audit_split
from fidelity.audit.result import AuditResult
from fidelity.audit.run import audit
from fidelity.recommenders import (
    NextItemModel,
    NextScoreModel,
    ScoringModel,
    adapt_model,
    as_template,
)

__all__ = [
    "AuditResult",
    "NextItemModel",
    "NextScoreModel",
    "ScoringModel",
    "adapt_model",
    "as_template",
    "audit",
    "audit_split",
]
