"""The AI Registry through the SDK's ``AIRHub``: hub name, versions, uploads, documents, imports.

``DataSet.create`` / ``Evaluator.create`` pick the version themselves, upload under timestamped keys,
create a Lambda under a timestamped name and (for evaluators) take no keywords, so a retry or a second
task instance cannot recognise what an earlier one registered. The operators therefore make the same
requests the SDK's ``create`` makes, through the SDK's own ``AIRHub`` class and with the SDK's hub
content documents, in steps they control: upload under a content-addressed key, create the Lambda
under a content-addressed name, import the version they chose with the content digest as a search
keyword. Every function here runs inside :meth:`SageMakerTrainHook.credentials_scope` (the SDK is
imported lazily, and ``AIRHub``'s class clients and cached hub name are pinned to the connection there).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from airflow_provider_smtrain.jobs.hub_content import hub_content_arn
from airflow_provider_smtrain.jobs.retry import is_conflict, is_not_found
from airflow_provider_smtrain.sdk.interrupts import sdk_call

#: Runtime of Lambda functions created from a local reward function (the SDK's ``python3.9`` is retired).
LAMBDA_RUNTIME = "python3.12"
#: Module and handler the SDK packages a reward function as.
LAMBDA_MODULE = "lambda_function.py"
LAMBDA_HANDLER = "lambda_function.lambda_handler"


@dataclass(frozen=True)
class RegistryHub:
    """
    Where the AI Registry of the connection's account and region lives.

    :param name: the hub name (``AIRHub``'s, derived from account and region).
    :param partition: the AWS partition.
    :param region: the AWS region.
    :param account: the account id.
    """

    name: str
    partition: str
    region: str
    account: str

    def arn(self, content_type: str, content_name: str, version: str | None) -> str:
        """
        The ARN (handle) of one hub content version, or of the latest when ``version`` is None.

        :param content_type: ``DataSet`` or ``JsonDoc``.
        :param content_name: the hub content name.
        :param version: the version, or None.
        """
        return hub_content_arn(
            partition=self.partition, region=self.region, account=self.account, hub=self.name,
            content_type=content_type, name=content_name, version=version,
        )


def registry_hub(sts_client: Any, region: str) -> RegistryHub:
    """
    The registry hub of the caller's account (one ``GetCallerIdentity``), named as ``AIRHub`` names it.

    :param sts_client: an STS client of the connection.
    :param region: the region of the hub.
    """
    from sagemaker.ai_registry.air_hub import AIRHub

    caller = sts_client.get_caller_identity()
    account, partition = str(caller["Account"]), str(caller["Arn"]).split(":")[1]
    AIRHub._generate_hub_names(region, account)  # what get_hub_name() caches, without a second STS call
    return RegistryHub(name=AIRHub.hubName, partition=partition, region=region, account=account)


def content_versions(client: Any, hub: str, content_type: str, name: str) -> list[dict[str, Any]]:
    """
    Every version of a hub content (``ListHubContentVersions``, all pages); none when the name or hub is new.

    ``AIRHub.list_hub_content_versions`` reads the first page only, which would hide versions (and so
    the next version number) of a name with many of them.

    :param client: a SageMaker client of the connection.
    :param hub: the hub name.
    :param content_type: ``DataSet`` or ``JsonDoc``.
    :param name: the hub content name.
    """
    request: dict[str, Any] = {"HubName": hub, "HubContentType": content_type, "HubContentName": name,
                               "MaxResults": 100}
    versions: list[dict[str, Any]] = []
    try:
        while True:
            page = client.list_hub_content_versions(**request)
            versions += page.get("HubContentSummaries") or []
            if not page.get("NextToken"):
                return versions
            request["NextToken"] = page["NextToken"]
    except ClientError as err:
        if is_not_found(err):
            return []
        raise


def upload_file(bucket: str, key: str, path: str) -> str:
    """
    Upload a local file the way the SDK's registry does (``AIRHub.upload_to_s3``); return its S3 URI.

    :param bucket: the bucket.
    :param key: the object key.
    :param path: the local file.
    """
    from sagemaker.ai_registry.air_hub import AIRHub

    with sdk_call():
        return str(AIRHub.upload_to_s3(bucket, key, path))


def check_dataset_format(path: str) -> None:
    """
    Reject a local dataset file the SDK cannot read (``DataSet._validate_dataset_format``).

    :param path: the local file.
    """
    from sagemaker.ai_registry.dataset import DataSet

    with sdk_call():
        DataSet._validate_dataset_format(path)


def dataset_document(bucket: str, key: str, role: str | None, technique: str | None) -> tuple[str, str]:
    """
    The hub content document ``DataSet.create`` writes, and its schema version.

    :param bucket: the dataset's bucket.
    :param key: the dataset's key.
    :param role: the dataset's role ARN, if any.
    :param technique: the customization technique, if any (not part of the document).
    """
    from sagemaker.ai_registry import air_constants as c
    from sagemaker.ai_registry.dataset_utils import DataSetHubContentDocument

    document = DataSetHubContentDocument(
        dataset_s3_bucket=bucket,
        dataset_s3_prefix=key,
        dataset_context_s3_uri='""',
        dataset_type=c.DATASET_DEFAULT_TYPE,
        dataset_role_arn=role,
        conversation_id=c.DATASET_DEFAULT_CONVERSATION_ID,
        conversation_checkpoint_id=c.DATASET_DEFAULT_CHECKPOINT_ID,
        dependencies=[],
    )
    return document.to_json(), c.DATASET_DOCUMENT_SCHEMA_VERSION


def evaluator_document(reference: str, evaluator_type: str) -> tuple[str, str]:
    """
    The hub content document ``Evaluator.create`` writes, and its schema version.

    :param reference: the Lambda ARN or S3 URI the evaluator points at.
    :param evaluator_type: ``RewardFunction`` or ``RewardPrompt``.
    """
    from sagemaker.ai_registry import air_constants as c

    content = json.dumps({"Reference": reference, "EvaluatorType": evaluator_type})
    return json.dumps({"SubType": c.EVALUATOR_HUB_CONTENT_SUBTYPE, "JsonContent": content}), (
        c.EVALUATOR_DOCUMENT_SCHEMA_VERSION
    )


def import_version(
    *,
    content_type: str,
    name: str,
    version: str,
    document: str,
    schema_version: str,
    keywords: list[tuple[str, str]],
) -> None:
    """
    Import one version (``AIRHub.import_hub_content``: ``DescribeHub``, ``CreateHub`` if missing, ``ImportHubContent``).

    Made with ``AIRHub``'s class-level SageMaker client, which the credentials scope pins to the connection.
    When another task creates the hub between this one's ``DescribeHub`` and ``CreateHub`` (two first
    imports at once), ``CreateHub`` answers ``ResourceInUse``: the hub exists, so the import is made again
    (its ``DescribeHub`` now finds it). A version that exists already raises (the caller decides).

    :param content_type: ``DataSet`` or ``JsonDoc``.
    :param name: the hub content name.
    :param version: the version to create.
    :param document: the hub content document.
    :param schema_version: the document's schema version.
    :param keywords: ``(key, value)`` search keywords.
    """
    from sagemaker.ai_registry.air_hub import AIRHub

    def once() -> None:
        AIRHub.import_hub_content(
            hub_content_type=content_type,
            hub_content_name=name,
            document_schema_version=schema_version,
            hub_content_document=document,
            hub_content_version=version,
            tags=keywords,
        )

    with sdk_call():
        try:
            once()
        except ClientError as err:
            if err.operation_name != "CreateHub" or not is_conflict(err):
                raise
            once()


def reward_function_zip(path: str) -> bytes:
    """
    The deployment package the SDK builds from a local reward function (the file as ``lambda_function.py``).

    :param path: the local ``.py`` file.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(LAMBDA_MODULE, date_time=(1980, 1, 1, 0, 0, 0))  # same bytes on every try
        info.external_attr = 0o644 << 16
        with open(path, "rb") as handle:
            archive.writestr(info, handle.read(), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ensure_reward_lambda(lambda_client: Any, function_name: str, path: str, role: str) -> str:
    """
    Create the reward function's Lambda (``CreateFunction``) unless a try before did; return its ARN.

    The name is content-addressed, so a function that exists under it holds this very code.

    :param lambda_client: a Lambda client of the connection.
    :param function_name: the deterministic function name.
    :param path: the local ``.py`` file.
    :param role: the role the function runs as.
    """
    try:
        response = lambda_client.create_function(
            FunctionName=function_name,
            Runtime=LAMBDA_RUNTIME,
            Role=role,
            Handler=LAMBDA_HANDLER,
            Code={"ZipFile": reward_function_zip(path)},
            Description=f"Reward function from {os.path.basename(path)} (airflow-provider-smtrain)",
        )
    except ClientError as err:
        if (err.response.get("Error") or {}).get("Code") != "ResourceConflictException":
            raise
        response = lambda_client.get_function(FunctionName=function_name)["Configuration"]
    return str(response["FunctionArn"])
