"""IAM policy simulation moto lacks: every action ``allowed`` (server process only; idempotent)."""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse

from airflow_provider_smtrain.testing import moto_support


def install() -> None:
    """Add ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy`` to moto's IAM."""
    moto_support.patch_once(IamResponse, "simulate_principal_policy", lambda _: simulate_policy)
    moto_support.patch_once(IamResponse, "simulate_custom_policy", lambda _: simulate_policy)


def simulate_policy(self: IamResponse) -> ActionResult:
    """
    Every requested action on every requested resource is ``allowed``.

    :param self: The moto IAM response handler.
    """
    actions = self._get_param("ActionNames", []) or []
    resources = self._get_param("ResourceArns", []) or ["*"]
    results = [
        {
            "EvalActionName": action,
            "EvalResourceName": resource,
            "EvalDecision": "allowed",
            "MatchedStatements": [],
            "MissingContextValues": [],
        }
        for action in actions
        for resource in resources
    ]
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})
