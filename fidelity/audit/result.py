"""The result of an audit: :class:`AuditResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fidelity._display import DisplayMixin
from fidelity.attacks import AttackResult
from fidelity.attacks.results import strongest
from fidelity.evaluation import AttackRequest
from fidelity.evaluation.data_information import DataInformation
from fidelity.evaluation.session_curve import SessionCurve, ValidatedSafeSize
from fidelity.recommenders import Recommender
from fidelity.split import ProviderSplit

__all__ = ["AuditResult"]


@dataclass(frozen=True, eq=False)
class AuditResult(DisplayMixin):
    """The audit of one fitted model on one provider split.

    Attributes
    ----------
    model_kind : {"scores", "topk"}
        What the model's answers allow (scores: every threat model; top-k lists: ``label``
        and ``topk``).
    threats : tuple of str
        The threat models audited.
    requests : tuple of AttackRequest
    results : tuple of AttackResult
        One per request, in order.
    skipped : tuple of str
        One sentence per attack (or family) not run, and why.
    accuracy_members, accuracy_nonmembers : float
        The model's top-1 accuracy on the members' and the non-members' observations (a
        gap is what the attacks feed on).
    curve : SessionCurve or None
        Leakage against session length of the attacks it covers and the attack-validated
        safe size (``None`` with ``curve=False``). Without a registered fidelity template
        it covers the attacks that need none, and its ``scenario.recommender`` is a
        placeholder (only its seed, overlap and mode describe the audit).
    information : DataInformation or None
        MI(H;O) between the adversary's and the training data and its Fano size.
    elapsed_s : float
    split : ProviderSplit
    model : Recommender
        The adapted model the attacks queried.
    """

    model_kind: str
    threats: tuple[str, ...]
    requests: tuple[AttackRequest, ...]
    results: tuple[AttackResult, ...]
    skipped: tuple[str, ...]
    accuracy_members: float
    accuracy_nonmembers: float
    curve: SessionCurve | None
    information: DataInformation | None
    elapsed_s: float
    split: ProviderSplit = field(repr=False)
    model: Recommender = field(repr=False)

    @property
    def strongest(self) -> AttackResult | None:
        """The result of highest user-level AUC (None when none could be scored)."""
        return strongest(self.results)

    @property
    def validated(self) -> ValidatedSafeSize | None:
        """The attack-validated safe session size (None without a curve)."""
        return None if self.curve is None else self.curve.validated

    def result(self, name: str, threat: str | None = None) -> AttackResult:
        """The first result of attack ``name`` (under ``threat``)."""
        for request, res in zip(self.requests, self.results, strict=True):
            if request.name == name and (threat is None or request.threat == threat):
                return res
        raise KeyError(f"no result for attack {name!r} threat {threat!r} in this audit")

    def summary(self) -> str:
        """The strongest attack, the validated size, and what was not run."""
        best = self.strongest
        split = self.split
        head = (
            f"Audit of a model that answers with {self.model_kind}, on "
            f"{len(split.adversary_users)} users ({split.n_members} members)"
        )
        if best is None or best.roc is None:
            text = f"{head}: none of the {len(self.results)} attack runs could be scored."
        else:
            text = (
                f"{head}: the strongest of {len(self.results)} attack runs, {best.label}, tells "
                f"members from non-members with AUC {best.roc.auc:.3f} and advantage "
                f"{best.roc.advantage:.3f}."
            )
        validated = self.validated
        if validated is not None:
            text += f" Attack-validated safe session size: {validated.label} observations per user."
        if self.skipped:
            text += f" Not run: {'; '.join(s.rstrip('.') for s in self.skipped)}."
        return text

    def to_dict(self) -> dict[str, Any]:
        """Scalars: the model, the data, the strongest attack, the validated size."""
        split = self.split
        best = self.strongest
        out: dict[str, Any] = {
            "model_kind": self.model_kind,
            "threats": "+".join(self.threats),
            "n_attack_runs": len(self.results),
            "n_skipped": len(self.skipped),
            "n_adversary_users": len(split.adversary_users),
            "n_members": split.n_members,
            "n_adversary_obs": len(split.adversary),
            "n_target_obs": len(split.target),
            "accuracy_members": self.accuracy_members,
            "accuracy_nonmembers": self.accuracy_nonmembers,
            "strongest_attack": None if best is None else best.label,
            "strongest_auc": math.nan if best is None else best.roc.auc,  # type: ignore[union-attr]
            "strongest_advantage": (
                math.nan if best is None else best.roc.advantage  # type: ignore[union-attr]
            ),
        }
        if self.validated is not None:
            v = self.validated
            out.update(
                validated_safe_size=v.size,
                validated_label=v.label,
                validated_decided_by=v.decided_by,
                validated_limited_by_data=v.limited_by_data,
            )
        if self.information is not None:
            fano = self.information.fano
            out["mi"] = self.information.estimate.mi
            out["fano_safe_session_size"] = fano.size
        out["elapsed_s"] = self.elapsed_s
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per attack run (the columns of :meth:`AttackResult.to_dict`)."""
        return pd.DataFrame([r.to_dict() for r in self.results])
