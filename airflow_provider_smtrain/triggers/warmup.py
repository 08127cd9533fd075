"""
Import and parse what creating the first aiobotocore client needs in a worker thread, not on the triggerer's loop.

Creating an aiobotocore client makes botocore's data loader read and parse ``endpoints.json`` (1.2 MB),
the service model (2.5 MB for SageMaker), its paginators, waiters and endpoint rule set, synchronously,
on the event loop: measured 200-280 ms the first time in a process, in one block (every trigger waits).
The amazon provider gives every aiobotocore session it builds one shared loader
(``airflow.providers.amazon.aws.hooks.base_aws._loader``) whose cache keeps what was parsed. Filling
that cache from a worker thread first (:func:`warm_loader`, with ``asyncio.to_thread``) leaves
``create_client`` ~8-10 ms of work on the loop (client class, signer, endpoint); each ``json.loads``
in the thread holds the interpreter for at most ~20 ms at a time.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

#: The botocore service the triggers' clients talk to.
SERVICE = "sagemaker"


def build_hook(
    aws_conn_id: str | None,
    region_name: str | None,
    verify: bool | str | None,
    botocore_config: dict[str, Any] | None,
) -> Any:
    """
    The hook a shared client is created through; call it in a worker thread (blocking).

    The first call in a process imports the amazon provider's ``base_aws`` (boto3, botocore: ~110 ms,
    which the triggerer's loop would otherwise wait for).

    :param aws_conn_id: Airflow AWS connection id, or None for the default boto3 credential chain.
    :param region_name: AWS region, or None for the connection's region.
    :param verify: SSL verification flag or CA bundle path, or None for the connection's setting.
    :param botocore_config: keyword arguments of :class:`botocore.config.Config`, or None.
    """
    from airflow_provider_smtrain.hooks.connection import StrictAwsBaseHook

    return StrictAwsBaseHook(
        aws_conn_id=aws_conn_id,
        region_name=region_name,
        verify=verify,
        config=dict(botocore_config) if botocore_config is not None else None,
        client_type=SERVICE,
    )


def warm_loader(hook: Any, service: str = SERVICE) -> None:
    """
    Load what creating an aiobotocore client of ``service`` parses into the shared data loader (blocking).

    Run it in a worker thread before the first client is created. No AWS call is made, and it never
    raises: it only fills a cache, ``create_client`` loads whatever is missing itself.

    :param hook: the ``AwsBaseHook`` the client will be created through (its connection and config).
    :param service: the botocore service name.
    """
    try:
        from airflow.providers.amazon.aws.hooks.base_aws import SessionFactory

        # the session the hook's ``get_async_conn`` builds: same factory, same shared loader
        factory = SessionFactory(conn=hook.conn_config, region_name=hook.region_name, config=hook.config)
        factory.get_async_session().warm_up_loader_caches(service)
    except Exception:
        log.debug("Loading botocore's %s data in a worker thread failed", service, exc_info=True)
