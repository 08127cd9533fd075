"""AWS conveniences of LocalSageMaker: environment, Airflow connections, boto3 clients, S3 and IAM helpers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_smtrain.testing.client.launcher import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_SECRET_ACCESS_KEY,
    Launcher,
)


class AwsHelpers(Launcher):
    """
    How clients reach :class:`~airflow_provider_smtrain.testing.client.LocalSageMaker` (boto3 imported lazily).
    """

    # ------------------------------------------------------------------------------ client config

    def aws_env(
        self, access_key_id: str = DEFAULT_ACCESS_KEY_ID, secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    ) -> dict[str, str]:
        """
        Environment variables pointing boto3/botocore (and the SageMaker SDK) at this server.

        :param access_key_id: Access key id to sign with (shows up in :meth:`requests`).
        :param secret_access_key: Secret key.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def airflow_connection_extra(self) -> dict[str, Any]:
        """``extra`` of an Airflow ``aws`` connection to this server."""
        return {"endpoint_url": self.endpoint_url, "region_name": self.region}

    def airflow_connection_uri(
        self, access_key_id: str = DEFAULT_ACCESS_KEY_ID, secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    ) -> str:
        """
        Airflow ``aws`` connection URI (e.g. for ``AIRFLOW_CONN_<ID>``) with endpoint_url/region_name extras.

        :param access_key_id: Connection login (access key id).
        :param secret_access_key: Connection password (secret key).
        """
        login = quote(access_key_id, safe="")
        password = quote(secret_access_key, safe="")
        extra = urlencode({"__extra__": json.dumps(self.airflow_connection_extra())})
        return f"aws://{login}:{password}@/?{extra}"

    def airflow_connection_json(
        self,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY,
        session_token: str | None = None,
    ) -> str:
        """
        Airflow ``aws`` connection in the JSON form accepted by ``AIRFLOW_CONN_<ID>``.

        :param access_key_id: Connection login (access key id).
        :param secret_access_key: Connection password (secret key).
        :param session_token: Session token of temporary credentials (see :meth:`assume_role`).
        """
        extra = self.airflow_connection_extra()
        if session_token:
            extra["aws_session_token"] = session_token
        return json.dumps(
            {"conn_type": "aws", "login": access_key_id, "password": secret_access_key, "extra": extra}
        )

    def boto3_client(
        self,
        service: str,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY,
        **config: Any,
    ) -> Any:
        """
        A (cached) boto3 client for ``service`` pointed at this server (boto3 imported lazily).

        :param service: Service name, e.g. ``sagemaker``.
        :param access_key_id: Access key id to sign with.
        :param secret_access_key: Secret key.
        :param config: ``botocore.config.Config`` keyword arguments (e.g. ``retries``).
        """
        import boto3
        from botocore.config import Config

        cache_key = (
            service,
            self.endpoint_url,
            access_key_id,
            secret_access_key,
            repr(sorted(config.items())),
        )
        client = self._clients.get(cache_key)
        if client is None:
            if self._boto3_session is None:
                self._boto3_session = boto3.session.Session()
            client = self._boto3_session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=Config(**config) if config else None,
            )
            self._clients[cache_key] = client
        return client

    # ------------------------------------------------------------------------------ conveniences

    def create_bucket(self, name: str) -> None:
        """
        Create an S3 bucket (in :attr:`region`).

        :param name: Bucket name.
        """
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.boto3_client("s3").create_bucket(**kwargs)

    def put_object(self, bucket: str, key: str, body: bytes | str) -> None:
        """
        Upload an object.

        :param bucket: Bucket name.
        :param key: Object key.
        :param body: Content (str is UTF-8 encoded).
        """
        data = body.encode() if isinstance(body, str) else body
        self.boto3_client("s3").put_object(Bucket=bucket, Key=key, Body=data)

    def get_object(self, bucket: str, key: str) -> bytes:
        """
        Download an object.

        :param bucket: Bucket name.
        :param key: Object key.
        """
        data: bytes = self.boto3_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def assume_role(self, role_arn: str, session_name: str = "airflow") -> dict[str, str]:
        """
        Temporary credentials of ``role_arn``: signed with them, ``GetCallerIdentity`` answers
        ``arn:aws:sts::<account>:assumed-role/<role>/<session>`` (what the SDK needs to derive a role
        from the caller, e.g. RLVR's inner ``Evaluator.create``).

        :param role_arn: The role (see :meth:`create_role`).
        :param session_name: Role session name.
        :returns: ``{"access_key_id", "secret_access_key", "session_token"}``.
        """
        credentials = self.boto3_client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)[
            "Credentials"
        ]
        return {
            "access_key_id": credentials["AccessKeyId"],
            "secret_access_key": credentials["SecretAccessKey"],
            "session_token": credentials["SessionToken"],
        }

    def create_role(self, name: str, service: str = "sagemaker.amazonaws.com") -> str:
        """
        Create an IAM role trusted by ``service`` and return its ARN.

        :param name: Role name.
        :param service: Service principal of the trust policy.
        """
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        role = self.boto3_client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(policy)
        )
        arn: str = role["Role"]["Arn"]
        return arn
