"""`make deploy-org`: the member template in every account and region of some OUs, through a
CloudFormation StackSet with service-managed permissions and automatic deployment.

Run it in the management account or a delegated administrator (`--call-as DELEGATED_ADMIN`).
It uploads the processing code to one bucket per region (`<prefix>-<region>`, created on first
use), then creates or updates the StackSet and its instances and waits for the operation. The
central stack is deployed like any stack (`make deploy TEMPLATE=templates/org-central.json`).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..extras import extra_of, missing_extra

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

from ..errors import SettingsError
from ..generator.catalog import ManagedRule
from ..packaging import build_zip
from ..paths import FUNCTIONS_DIR, TEMPLATES_DIR
from . import invocation
from .inputs import load_inputs
from .invocation import check_regions, option, set_credentials_hint, set_region_hint
from .preflight import Status, region_findings, unverified_findings

MEMBER_TEMPLATE = TEMPLATES_DIR / "org-member.json"
CODE_PREFIX = "compliance-template"
CALL_AS = ("SELF", "DELEGATED_ADMIN")  # CloudFormation CallAs (botocore model enum)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
# Stop after 10% of an operation's accounts fail in a region; 25% of accounts at a time, all
# regions in parallel: fast enough for hundreds of accounts, small enough to stop a bad change.
FAILURE_TOLERANCE_PERCENT = 10
MAX_CONCURRENT_PERCENT = 25
FINAL_STATES = {"SUCCEEDED", "FAILED", "STOPPED"}
MAX_INLINE_TEMPLATE_BYTES = 51_200  # CloudFormation's TemplateBody limit


@dataclass(frozen=True)
class OrgDeployment:
    stack_set_name: str
    organizational_units: tuple[str, ...]
    regions: tuple[str, ...]
    artifact_bucket_prefix: str
    parameters: dict[str, str]
    call_as: str = "SELF"
    failure_tolerance: int = FAILURE_TOLERANCE_PERCENT
    max_concurrent: int = MAX_CONCURRENT_PERCENT
    # The member template's Config rules, for the region warnings.
    rules: tuple[ManagedRule, ...] = ()


def region_warnings(deployment: OrgDeployment) -> list[str]:
    """Preflight's region-facts warnings for every region of the StackSet: preflight runs in one
    account and region, and a StackSet instance in a region the facts do not cover (or with a
    rule whose region list is unverified) fails there if AWS lacks one of the rules."""
    findings = [
        (f"{region}: ", finding)
        for region in deployment.regions
        for finding in region_findings(deployment.rules, region)
    ]
    findings += [("", finding) for finding in unverified_findings(deployment.rules)]
    return [f"{where}{f.detail}" for where, f in findings if f.status is Status.WARN]


def code_key(zip_bytes: bytes) -> str:
    """Content-addressed: a new version is a new key, so the StackSet sees a parameter change."""
    return f"{CODE_PREFIX}/processing-{hashlib.sha256(zip_bytes).hexdigest()[:20]}.zip"


def stack_set_request(deployment: OrgDeployment, template_body: str, key: str) -> dict:
    parameters = {
        **deployment.parameters,
        "ArtifactBucketPrefix": deployment.artifact_bucket_prefix,
        "ProcessingCodeKey": key,
    }
    return {
        "StackSetName": deployment.stack_set_name,
        "Description": "Compliance monitoring: Config rules and processing in every member",
        "TemplateBody": template_body,
        "Parameters": [
            {"ParameterKey": name, "ParameterValue": value}
            for name, value in sorted(parameters.items())
        ],
        "Capabilities": ["CAPABILITY_IAM"],
        "PermissionModel": "SERVICE_MANAGED",
        # New accounts in the OUs get the stack; leaving accounts lose it (their records stay
        # in the central bucket).
        "AutoDeployment": {"Enabled": True, "RetainStacksOnAccountRemoval": False},
        "CallAs": deployment.call_as,
    }


def operation_preferences(deployment: OrgDeployment) -> dict:
    return {
        "FailureTolerancePercentage": deployment.failure_tolerance,
        "MaxConcurrentPercentage": deployment.max_concurrent,
        "RegionConcurrencyType": "PARALLEL",
    }


def instances_request(deployment: OrgDeployment) -> dict:
    return {
        "StackSetName": deployment.stack_set_name,
        "DeploymentTargets": {"OrganizationalUnitIds": list(deployment.organizational_units)},
        "Regions": list(deployment.regions),
        "OperationPreferences": operation_preferences(deployment),
        "CallAs": deployment.call_as,
    }


def upload_code(
    session: boto3.Session, deployment: OrgDeployment, zip_bytes: bytes, say: Callable[[str], None]
) -> str:
    """The same zip in every region's bucket; buckets are created private and encrypted."""
    key = code_key(zip_bytes)
    for region in deployment.regions:
        s3 = session.client("s3", region_name=region, config=RETRIES)
        bucket = f"{deployment.artifact_bucket_prefix}-{region}"
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise
            _create_bucket(s3, bucket, region)
            say(f"created code bucket {bucket}")
        s3.put_object(Bucket=bucket, Key=key, Body=zip_bytes)
        say(f"uploaded s3://{bucket}/{key}")
    return key


def upload_template(session: boto3.Session, deployment: OrgDeployment, body: str) -> str:
    """Templates over the inline limit go through S3 (the first region's code bucket)."""
    region = deployment.regions[0]
    bucket = f"{deployment.artifact_bucket_prefix}-{region}"
    key = f"{CODE_PREFIX}/org-member-{hashlib.sha256(body.encode()).hexdigest()[:20]}.json"
    session.client("s3", region_name=region, config=RETRIES).put_object(
        Bucket=bucket, Key=key, Body=body.encode()
    )
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def _create_bucket(s3: object, bucket: str, region: str) -> None:
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def deploy(
    session: boto3.Session,
    deployment: OrgDeployment,
    template_body: str,
    zip_bytes: bytes,
    say: Callable[[str], None] = print,
    poll_seconds: float = 10.0,
) -> str:
    """Upload, create or update the StackSet, add instances, wait; returns the final status."""
    cloudformation = session.client("cloudformation", config=RETRIES)
    key = upload_code(session, deployment, zip_bytes, say)
    request = stack_set_request(deployment, template_body, key)
    if len(template_body.encode()) > MAX_INLINE_TEMPLATE_BYTES:
        request.pop("TemplateBody")
        request["TemplateURL"] = upload_template(session, deployment, template_body)
        say(f"template larger than {MAX_INLINE_TEMPLATE_BYTES} bytes: {request['TemplateURL']}")
    try:
        cloudformation.describe_stack_set(
            StackSetName=deployment.stack_set_name, CallAs=deployment.call_as
        )
        exists = True
    except ClientError as error:
        if error.response["Error"]["Code"] != "StackSetNotFoundException":
            raise
        exists = False
    if exists:
        operation = cloudformation.update_stack_set(
            **request, OperationPreferences=operation_preferences(deployment)
        )
        say(f"updating StackSet {deployment.stack_set_name}")
        status = wait(cloudformation, deployment, operation["OperationId"], say, poll_seconds)
        if status != "SUCCEEDED":
            return status
    else:
        cloudformation.create_stack_set(**request)
        say(f"created StackSet {deployment.stack_set_name}")
    # Adds the OUs and regions that have no instance yet.
    operation = cloudformation.create_stack_instances(**instances_request(deployment))
    say(
        f"deploying to OUs {', '.join(deployment.organizational_units)} in "
        f"{', '.join(deployment.regions)}"
    )
    return wait(cloudformation, deployment, operation["OperationId"], say, poll_seconds)


def wait(
    cloudformation: object,
    deployment: OrgDeployment,
    operation_id: str,
    say: Callable[[str], None],
    poll_seconds: float,
) -> str:
    last = None
    while True:
        operation = cloudformation.describe_stack_set_operation(
            StackSetName=deployment.stack_set_name,
            OperationId=operation_id,
            CallAs=deployment.call_as,
        )["StackSetOperation"]
        status = operation["Status"]
        if status != last:
            say(f"operation {operation_id}: {status}")
            last = status
        if status in FINAL_STATES:
            return status
        time.sleep(poll_seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.deploy.org",
        description="Deploy the member template to OUs and regions with a StackSet.",
    )
    parser.add_argument("--stack-set-name", default="compliance-monitoring-members")
    parser.add_argument("--ous", default="", help="comma-separated OU ids (ou-...); required")
    parser.add_argument("--regions", default="", help="comma-separated regions; required")
    parser.add_argument("--artifact-bucket-prefix", default="", help="required")
    parser.add_argument(
        "--parameters",
        type=Path,
        help='required: the central stack\'s values: {"Parameters": {"CentralBucketName": ...}}',
    )
    # Checked in _deployment rather than by argparse, whose message would name --call-as where
    # make's user typed CALL_AS=.
    parser.add_argument("--call-as", default="SELF", help="SELF (default) or DELEGATED_ADMIN")
    parser.add_argument("--template", type=Path, default=MEMBER_TEMPLATE)
    parser.add_argument("--region", help="where the StackSet lives (default: configured)")
    parser.add_argument("--profile", help="AWS CLI profile (default: the environment's)")
    args = parser.parse_args(argv)
    try:
        zip_bytes = build_zip(FUNCTIONS_DIR / "processing")
        deployment = _deployment(args, code_key(zip_bytes))
        body = args.template.read_text(encoding="utf-8")
        session = invocation.session(args.profile, args.region)
        if not session.region_name:
            raise NoRegionError()
        check_regions([session.region_name], "--region")
        for warning in region_warnings(deployment):
            print(f"deploy-org: warning: {warning}", file=sys.stderr)
        status = deploy(session, deployment, body, zip_bytes)
    except SettingsError as error:
        return _fail(str(error))
    except NoRegionError:
        return _fail(f"no region for the StackSet: {set_region_hint()}")
    except NoCredentialsError:
        return _fail(f"no AWS credentials: {set_credentials_hint()}")
    except (ClientError, BotoCoreError) as error:
        return _fail(str(error))
    return 0 if status == "SUCCEEDED" else 1


def _fail(message: str) -> int:
    print(f"deploy-org: error: {message}", file=sys.stderr)
    return 2


def _deployment(args: argparse.Namespace, processing_key: str) -> OrgDeployment:
    for flag, value in (
        ("--ous", args.ous),
        ("--regions", args.regions),
        ("--artifact-bucket-prefix", args.artifact_bucket_prefix),
        ("--parameters", args.parameters),
    ):
        if not value:
            raise SettingsError(option(flag), "", "a value (required)")
    if args.call_as not in CALL_AS:
        raise SettingsError(option("--call-as"), args.call_as, " or ".join(CALL_AS))
    ous = tuple(o for o in args.ous.split(",") if o)
    for ou in ous:
        if not ou.startswith(("ou-", "r-")):
            raise SettingsError(
                option("--ous"), ou, "OU ids such as ou-ab12-cdef3456 (or the root r-...)"
            )
    regions = check_regions((r for r in args.regions.split(",") if r), "--regions")
    if not regions:
        raise SettingsError(option("--regions"), args.regions, "one or more region codes")
    # The two parameters deploy-org sets itself are checked against the template like the file's.
    inputs = load_inputs(
        args.template,
        args.parameters,
        provided={
            "ArtifactBucketPrefix": (
                args.artifact_bucket_prefix,
                option("--artifact-bucket-prefix"),
            ),
            "ProcessingCodeKey": (processing_key, "ProcessingCodeKey"),
        },
    )
    # Every other parameter is passed, defaults included (as `make deploy` does): the StackSet
    # then runs with what the template and the file say, not with values of an earlier run.
    own = ("ArtifactBucketPrefix", "ProcessingCodeKey")
    return OrgDeployment(
        stack_set_name=args.stack_set_name,
        organizational_units=ous,
        regions=regions,
        artifact_bucket_prefix=args.artifact_bucket_prefix,
        parameters={name: value for name, value in inputs.parameters.items() if name not in own},
        call_as=args.call_as,
        rules=inputs.rules,
    )


if __name__ == "__main__":
    sys.exit(main())
