"""Fixtures for the Lambda function tests: in-process moto, dummy credentials, no network."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from compliance_template.function_loader import import_app
from compliance_template.generator.naming import FUNCTION_NAMES

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
BUCKET = "compliance-reports-test"
REMEDIATION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:compliance-remediation"
PREFIX = "compliance"
# Named as the stack names its rules, <RuleNamePrefix>-<suffix of the rulebook's names>.
RULES = {
    "compliance-desired-instance-type": "DESIRED_INSTANCE_TYPE",
    "compliance-s3-bucket-server-side-encryption-enabled": (
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    ),
    "compliance-db-instance-backup-enabled": "DB_INSTANCE_BACKUP_ENABLED",
    "compliance-encrypted-volumes": "ENCRYPTED_VOLUMES",
    "compliance-s3-bucket-versioning-enabled": "S3_BUCKET_VERSIONING_ENABLED",
}

# Each function folder is a Lambda code root; its modules are top level there. Only app.py exists
# in all three, so it is loaded under a per-function name; everything else has a unique name (the
# shared modules are the same file through symlinks).
for _name in FUNCTION_NAMES:
    _path = str(FUNCTIONS / _name)
    if _path not in sys.path:
        sys.path.insert(0, _path)


def load_app(function: str) -> ModuleType:
    return import_app(FUNCTIONS / function, f"{function}_app")


def lambda_context(request_id: str = "req-1", function: str = "processing") -> SimpleNamespace:
    return SimpleNamespace(
        aws_request_id=request_id,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:compliance-{function}",
    )


def stdout_documents(text: str) -> list[dict[str, Any]]:
    """Every JSON line the functions printed (logs and EMF); fails on a non-JSON line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def emf_metrics(text: str) -> list[dict[str, Any]]:
    return [doc for doc in stdout_documents(text) if "_aws" in doc]


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    import aws

    aws.reset_clients()
    yield
    aws.reset_clients()


class World:
    """The moto account the tests run in, plus helpers to look at it and to break it."""

    def __init__(self, monkeypatch) -> None:
        import aws

        self.aws = aws
        self.monkeypatch = monkeypatch
        self.s3 = aws.client("s3")
        self.s3.create_bucket(Bucket=BUCKET)
        self.topic_arn = aws.client("sns").create_topic(Name="compliance")["TopicArn"]
        self.invocations: list[dict[str, Any]] = []
        monkeypatch.setenv("REPORTS_BUCKET", BUCKET)
        monkeypatch.setenv("TOPIC_ARN", self.topic_arn)
        monkeypatch.setenv("RULE_NAME_PREFIX", PREFIX)
        monkeypatch.setenv("FRAMEWORKS", "")

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def read_json(self, key: str) -> Any:
        return json.loads(self.read(key))

    def notifications(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][REGION].topics[self.topic_arn]
        return [
            {
                "message": message,
                "subject": subject,
                "attributes": {k: v["Value"] for k, v in (attributes or {}).items()},
            }
            for _, message, subject, attributes, _ in topic.sent_notifications
        ]

    def enable_remediation_function(self) -> None:
        """A real (moto) function to hand off to; the spy keeps the payloads it was sent."""
        iam = self.aws.client("iam")
        role = iam.create_role(
            RoleName="remediation",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        zipped = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(zipped, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return None\n")
        self.aws.client("lambda").create_function(
            FunctionName="compliance-remediation",
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zipped.getvalue()},
        )
        self.aws.client("lambda").meta.events.register(
            "before-parameter-build.lambda.Invoke", self._spy_invoke
        )
        self.monkeypatch.setenv("REMEDIATION_FUNCTION", REMEDIATION_ARN)

    def _spy_invoke(self, params, **_):
        self.invocations.append(
            {"type": params.get("InvocationType"), "payload": json.loads(params["Payload"])}
        )

    def fail(self, service: str, operation: str, code: str = "InternalError", times: int = 1):
        """Make the next ``times`` calls of an operation fail as AWS would, without retries."""
        remaining = {"count": times}
        client = self.aws.client(service)

        def answer(**_):
            if remaining["count"] <= 0:
                return None
            remaining["count"] -= 1
            response = {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            }
            return SimpleNamespace(status_code=500, headers={}, content=b""), response

        client.meta.events.register(
            f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", answer
        )
        return remaining


@pytest.fixture
def world(monkeypatch):
    from moto import mock_aws

    # boto3's default session is kept across tests (moto would replace it on every start): a new
    # one resolves its configuration and endpoints again, about 15 % of these tests' time.
    config = {"lambda": {"use_docker": False}, "core": {"reset_boto3_session": False}}
    with mock_aws(config=config):
        yield World(monkeypatch)
