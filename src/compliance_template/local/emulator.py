"""A local AWS emulator: moto's server in this process, on 127.0.0.1, with the CloudFormation
support our template needs.

moto 5.2.5 creates no resource for several types the template uses and logs "No Moto
CloudFormation support for X"; a `Fn::GetAtt` on such a resource then fails the whole stack. Its
handlers for some other types drop properties or crash. `cloudformation_fixes()` closes those
gaps for as long as it is active, each time by calling moto's OWN service backend, so the result
is readable through the ordinary APIs (describe-config-rules, describe-alarms, ...) exactly as
after a real deploy. Nothing is invented that moto's backend cannot hold; docs/deploy.md lists
every fix and what it does not emulate.

The fixes are installed by patching, not by subclassing moto's `CloudFormationModel`: moto finds
handlers through `CloudFormationModel.__subclasses__()` behind an `lru_cache`, so a subclass would
stay registered for the rest of the process, while a patch is undone when the block ends.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from unittest import mock

from ..extras import extra_of, missing_extra
from .aggregator import Organization, aggregator_additions
from .chatbot import CONFIGURATIONS as CHAT_CONFIGURATIONS
from .chatbot import MicrosoftTeamsChannelConfiguration, SlackChannelConfiguration
from .emulated import EmulatedResource
from .engine import Invoke, run_state_machine
from .ops_items import ops_items
from .remediation import RemediationConfiguration, page, remediation_additions
from .security_hub import security_hub_additions

try:
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda.utils import get_backend as lambda_backend
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.cloudformation import models as cloudformation_models
    from moto.cloudformation import parsing
    from moto.cloudformation import responses as cloudformation_responses
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.config.exceptions import NoSuchConfigRuleException
    from moto.config.models import config_backends
    from moto.config.responses import ConfigResponse
    from moto.iam.models import ManagedPolicy, iam_backends
    from moto.kms.models import Key, kms_backends
    from moto.logs.models import LogGroup, logs_backends
    from moto.s3.models import FakeBucket, s3_backends
    from moto.server import ThreadedMotoServer
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import Document as SsmDocument
    from moto.ssm.models import Parameter as SsmParameter
    from moto.ssm.models import ssm_backends
    from moto.stepfunctions.models import StateMachine, stepfunctions_backends
    from moto.utilities.utils import get_partition
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

HOST = "127.0.0.1"
# The AWS CLI must reach the server as "localhost": moto resolves the TemplateURL that
# `aws cloudformation deploy --s3-bucket` sends to CreateChangeSet only when the URL contains
# "localhost" (moto/cloudformation/utils.py get_stack_from_s3_url).
ENDPOINT_HOST = "localhost"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


# --- moto bugs in handlers it has -------------------------------------------------------------


def _kms_tags(tags: list[dict[str, str]] | None) -> list[dict[str, str]]:
    # CloudFormation tags are Key/Value; moto's create_key expects the KMS API's TagKey/TagValue
    # and raises KeyError 'TagKey' otherwise.
    return [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags or []]


def _policy_text(policy: Any) -> str:
    # CloudFormation accepts a policy as an object; moto's backends store the API's JSON string.
    return policy if isinstance(policy, str) else json.dumps(policy)


def _create_key(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Key:
    properties = cloudformation_json["Properties"]
    key = kms_backends[account_id][region_name].create_key(
        policy=_policy_text(properties["KeyPolicy"]),
        key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
        description=properties.get("Description", ""),
        tags=_kms_tags(properties.get("Tags")),
    )
    key.key_rotation_status = bool(properties.get("EnableKeyRotation", False))
    key.enabled = bool(properties.get("Enabled", True))
    return key


def _update_key(
    cls: type,
    original_resource: Key,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> Key:
    # moto has no update handler: without one it drops the key from the stack's resource map.
    # Policy, description, rotation and tags change in place, as in CloudFormation.
    properties = cloudformation_json["Properties"]
    original_resource.policy = _policy_text(properties["KeyPolicy"])
    original_resource.description = properties.get("Description", "")
    original_resource.key_rotation_status = bool(properties.get("EnableKeyRotation", False))
    backend = kms_backends[account_id][region_name]
    backend.tag_resource(
        original_resource.id, {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
    )
    return original_resource


def _update_managed_policy(
    cls: type,
    original_resource: ManagedPolicy,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> ManagedPolicy:
    # The document changes in place, as a new default version (CloudFormation: no interruption).
    backend = iam_backends[account_id][get_partition(region_name)]
    document = json.dumps(cloudformation_json["Properties"]["PolicyDocument"])
    backend.create_policy_version(original_resource.arn, document, set_as_default=True)
    for version in [v for v in original_resource.versions if not v.is_default]:
        backend.delete_policy_version(original_resource.arn, version.version_id)
    return original_resource


def _delete_managed_policy(
    cls: type, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
) -> None:
    """Detached from its roles first, as IAM requires; `resource_name` is the policy's ARN."""
    backend = iam_backends[account_id][get_partition(region_name)]
    for role in list(backend.roles.values()):
        if resource_name in role.managed_policies:
            backend.detach_role_policy(resource_name, role.name)
    backend.delete_policy(resource_name)


def _create_log_group(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LogGroup:
    properties = dict(cloudformation_json["Properties"])
    tags = {t["Key"]: t["Value"] for t in properties.pop("Tags", [])}
    # moto reads the key from a "kmsKeyId" argument and silently drops CloudFormation's KmsKeyId.
    if "KmsKeyId" in properties:
        properties["kmsKeyId"] = properties["KmsKeyId"]
    if "RetentionInDays" in properties:  # a parameter's default arrives as a string
        properties["RetentionInDays"] = int(properties["RetentionInDays"])
    return logs_backends[account_id][region_name].create_log_group(
        resource_name, tags, **properties
    )


def _update_log_group(
    cls: type,
    original_resource: LogGroup,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> LogGroup:
    properties = cloudformation_json["Properties"]
    name = properties.get("LogGroupName", original_resource.name)
    if name != original_resource.name:  # LogGroupName is create-only: CloudFormation replaces
        original_resource.delete(account_id, region_name)
        return _create_log_group(cls, name, cloudformation_json, account_id, region_name)
    backend = logs_backends[account_id][region_name]
    if "RetentionInDays" in properties:
        backend.put_retention_policy(name, int(properties["RetentionInDays"]))
    else:
        backend.delete_retention_policy(name)
    original_resource.kms_key_id = properties.get("KmsKeyId")
    backend.tag_resource(
        original_resource.arn, {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
    )
    return original_resource


def _put_ssm_parameter(
    account_id: str, region_name: str, name: str, properties: dict, *, overwrite: bool
) -> Any:
    # PutParameter refuses tags together with overwrite: an update keeps the tags it has.
    tags = [] if overwrite else sorted((properties.get("Tags") or {}).items())
    return ssm_backends[account_id][region_name].put_parameter(
        name=name,
        description=properties.get("Description"),
        value=properties.get("Value"),
        parameter_type=properties.get("Type"),
        allowed_pattern=properties.get("AllowedPattern"),
        keyid=None,
        overwrite=overwrite,
        tags=[{"Key": k, "Value": v} for k, v in tags],
        data_type=properties.get("DataType", "text"),
        tier=properties.get("Tier"),
        policies=properties.get("Policies"),
    )


def _create_ssm_parameter(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    """moto passes no name when the template leaves `Name` out (CloudFormation then makes one)
    and hands CloudFormation's tag map to PutParameter, which takes Key/Value pairs."""
    properties = cloudformation_json["Properties"]
    name = properties.get("Name") or resource_name
    return _put_ssm_parameter(account_id, region_name, name, properties, overwrite=False)


def _update_ssm_parameter(
    cls: type,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> Any:
    """A new value under the same name, as CloudFormation updates it (moto deletes the parameter
    and creates one under the logical id, so a Ref to it would change)."""
    properties = cloudformation_json["Properties"]
    name = properties.get("Name") or original_resource.name
    if name != original_resource.name:  # Name is create-only: CloudFormation replaces
        ssm_backends[account_id][region_name].delete_parameter(original_resource.name)
        return _create_ssm_parameter(cls, name, cloudformation_json, account_id, region_name)
    return _put_ssm_parameter(account_id, region_name, name, properties, overwrite=True)


_original_document_create = SsmDocument.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_ssm_document(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    """CloudFormation takes Content as an object and DocumentFormat defaults to JSON; moto's
    handler passes both on as given, and its backend then refuses a format of None."""
    properties = dict(cloudformation_json["Properties"])
    if not isinstance(properties.get("Content"), str):
        properties["Content"] = json.dumps(properties.get("Content"), sort_keys=True)
        properties["DocumentFormat"] = "JSON"
    properties.setdefault("DocumentFormat", "JSON")
    return _original_document_create(
        cls,
        resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
        **kwargs,
    )


_original_lambda_create = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_lambda_update = LambdaFunction.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _string_environment(cloudformation_json: dict) -> dict:
    # A Ref to a Number parameter reaches moto as a number; Lambda holds environment values as
    # strings only (CloudFormation converts them), and a handler's os.environ needs strings.
    properties = dict(cloudformation_json["Properties"])
    variables = properties.get("Environment", {}).get("Variables")
    if variables is not None:
        properties["Environment"] = {
            **properties["Environment"],
            "Variables": {k: str(v) for k, v in variables.items()},
        }
    return {**cloudformation_json, "Properties": properties}


def _create_function(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    cloudformation_json = _string_environment(cloudformation_json)
    function = _original_lambda_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    # moto's handler forwards neither Architectures nor Tags, though its backend keeps both.
    properties = cloudformation_json["Properties"]
    if "Architectures" in properties:
        function.architectures = list(properties["Architectures"])
    function.tags = {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
    return function


def _update_function(
    cls: type,
    original_resource: LambdaFunction,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> LambdaFunction:
    return _original_lambda_update(
        cls,
        original_resource,
        new_resource_name,
        _string_environment(cloudformation_json),
        account_id,
        region_name,
    )


_original_machine_create = StateMachine.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_machine_update = StateMachine.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
# CloudFormation property -> moto's StateMachine attribute, which holds the API's shape.
STATE_MACHINE_SETTINGS = (
    ("LoggingConfiguration", "loggingConfiguration"),
    ("TracingConfiguration", "tracingConfiguration"),
    ("EncryptionConfiguration", "encryptionConfiguration"),
)


def _camel_case(value: Any) -> Any:
    """CloudFormation's keys (LogGroupArn) as the Step Functions API spells them (logGroupArn)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel_case(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_camel_case(inner) for inner in value]
    return value


def _with_definition_string(cloudformation_json: dict) -> dict:
    """moto reads DefinitionString only: a Definition object and DefinitionSubstitutions (which
    CloudFormation applies to either) become the string moto stores."""
    properties = dict(cloudformation_json["Properties"])
    definition = properties.get("DefinitionString") or json.dumps(properties.get("Definition", {}))
    for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + name + "}", str(value))
    properties["DefinitionString"] = definition
    return {**cloudformation_json, "Properties": properties}


def _configure_machine(machine: StateMachine, properties: dict) -> StateMachine:
    # moto's handler drops the type and these settings, though its backend keeps all of them.
    machine.type = properties.get("StateMachineType", "STANDARD")
    for name, attribute in STATE_MACHINE_SETTINGS:
        if name in properties:
            setattr(machine, attribute, _camel_case(properties[name]))
    return machine


def _create_state_machine(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> StateMachine:
    cloudformation_json = _with_definition_string(cloudformation_json)
    machine = _original_machine_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    return _configure_machine(machine, cloudformation_json["Properties"])


def _update_state_machine(
    cls: type,
    original_resource: StateMachine,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> StateMachine:
    cloudformation_json = _with_definition_string(cloudformation_json)
    machine = _original_machine_update(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    return _configure_machine(machine, cloudformation_json["Properties"])


def _apply_bucket_properties(backend: Any, name: str, properties: dict) -> None:
    """What moto's S3::Bucket handler leaves out: it applies only BucketEncryption (without
    BucketKeyEnabled) and Tags."""
    encryption = properties.get("BucketEncryption")
    if encryption:
        backend.put_bucket_encryption(name, _api_encryption(encryption))
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(name, versioning["Status"])
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle:
        backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in lifecycle["Rules"]])
    else:
        backend.delete_bucket_lifecycle(name)
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(name, block)
    ownership = properties.get("OwnershipControls")
    if ownership:
        backend.put_bucket_ownership_controls(name, ownership["Rules"][0]["ObjectOwnership"])


def _api_encryption(encryption: dict) -> dict:
    """CloudFormation's BucketEncryption in the shape moto's backend parses from the API's XML."""
    rule = encryption["ServerSideEncryptionConfiguration"][0]
    by_default = {"SSEAlgorithm": rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]}
    key = rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
    if key:
        by_default["KMSMasterKeyID"] = key
    converted: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": by_default}
    if "BucketKeyEnabled" in rule:
        converted["BucketKeyEnabled"] = "true" if rule["BucketKeyEnabled"] else "false"
    return {"Rule": converted}


def _lifecycle_rule(rule: dict) -> dict:
    """A CloudFormation lifecycle rule in the shape moto's backend parses from the API's XML."""
    converted: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    converted["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": str(rule["ExpirationInDays"])}
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": str(noncurrent["NoncurrentDays"])
        }
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": str(abort["DaysAfterInitiation"])
        }
    return converted


_original_bucket_create = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_bucket(
    cls: type,
    resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> FakeBucket:
    bucket = _original_bucket_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    backend = s3_backends[account_id][get_partition(region_name)]
    _apply_bucket_properties(backend, bucket.name, cloudformation_json.get("Properties", {}))
    return bucket


def _update_bucket(
    cls: type,
    original_resource: FakeBucket,
    new_resource_name: str,
    cloudformation_json: dict,
    account_id: str,
    region_name: str,
) -> FakeBucket:
    # moto's own update tags the bucket by properties["BucketName"], a KeyError for a bucket with
    # a generated name (ours), and leaves everything but encryption and tags unchanged.
    properties = cloudformation_json["Properties"]
    if properties.get("BucketName", original_resource.name) != original_resource.name:
        raise NotImplementedError("renaming a bucket (replacement) is not emulated")
    backend = s3_backends[account_id][get_partition(region_name)]
    name = original_resource.name
    if "Tags" in properties:
        backend.put_bucket_tagging(name, {t["Key"]: t["Value"] for t in properties["Tags"]})
    _apply_bucket_properties(backend, name, properties)
    return original_resource


def _execute_change_set(original: Any) -> Any:
    def execute(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(backend, change_set_name, stack_name)
        # moto builds a stack's outputs when the stack object is created, which for a change set
        # is before it has a template, and never again: describe-stacks would show no outputs
        # and no exports would exist. Rebuild both from the executed template.
        change_set = backend.describe_change_set(change_set_name)
        stack = backend.stacks[change_set.stack_id]
        # moto keeps the parameters the stack was created with, so a later change set with the
        # current values would not be recognised as empty.
        stack.parameters = change_set.parameters
        old_exports = [export.name for export in stack.exports]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        for name in old_exports:
            backend.exports.pop(name, None)
        backend._validate_export_uniqueness(stack)
        for export in stack.exports:
            backend.exports[export.name] = export

    return execute


def _loopback_template_url(original: Callable[..., str]) -> Callable[..., str]:
    """moto reads a TemplateURL from its own S3 only when the URL says "localhost"; a client
    pointed at http://127.0.0.1:<port> (as `make emulator` prints) sends that address instead."""

    def get_stack_from_s3_url(template_url: str, *args: Any, **kwargs: Any) -> str:
        for address in (f"//{HOST}:", f"//{HOST}/"):
            template_url = template_url.replace(address, address.replace(HOST, "localhost"), 1)
        return original(template_url, *args, **kwargs)

    return get_stack_from_s3_url


def _bucket_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
    """moto's FakeBucket.get_permission without the statements it cannot evaluate.

    moto applies a bucket policy's statements to object requests without their Condition (it has
    no request context there), so our conditional denies (plain HTTP, other encryption) would
    deny every write. Statements with a Condition are left out here: locally they are stored and
    read back, not enforced.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    document = json.loads(bucket.policy)
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    unconditional = [s for s in statements if "Condition" not in s]
    if not unconditional:
        return PermissionResult.NEUTRAL
    policy = IAMPolicy(json.dumps({**document, "Statement": unconditional}))
    return policy.is_action_permitted(action, resource)


# --- handlers for types moto lacks ----------------------------------------------------------


class ConfigRule(EmulatedResource):
    """Stored in moto's Config backend (describe-config-rules); moto evaluates nothing."""

    TYPE = "AWS::Config::ConfigRule"
    ATTRIBUTES: ClassVar[dict[str, str]] = {"Arn": "arn", "ConfigRuleId": "rule_id"}

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties.get("ConfigRuleName", generated)

    def apply(self) -> None:
        rule = {k: v for k, v in self.properties.items() if k != "Tags"}
        rule["ConfigRuleName"] = self.physical_resource_id
        if isinstance(rule.get("InputParameters"), dict):
            # CloudFormation sends the object as the API's JSON string, every Ref a string.
            rule["InputParameters"] = json.dumps(
                {k: str(v) for k, v in rule["InputParameters"].items()}
            )
        backend = config_backends[self.account_id][self.region]
        backend.put_config_rule(rule, self.properties.get("Tags"))
        stored = backend.config_rules[self.physical_resource_id]
        self.arn, self.rule_id = stored.config_rule_arn, stored.config_rule_id

    def delete(self, account_id: str, region_name: str) -> None:
        config_backends[account_id][region_name].delete_config_rule(self.physical_resource_id)


class ConfigurationAggregator(EmulatedResource):
    TYPE = "AWS::Config::ConfigurationAggregator"
    ATTRIBUTES: ClassVar[dict[str, str]] = {"ConfigurationAggregatorArn": "arn"}

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties.get("ConfigurationAggregatorName", generated)

    def apply(self) -> None:
        request = {k: v for k, v in self.properties.items()}
        request["ConfigurationAggregatorName"] = self.physical_resource_id
        result = config_backends[self.account_id][self.region].put_configuration_aggregator(request)
        self.arn = result["ConfigurationAggregatorArn"]

    def delete(self, account_id: str, region_name: str) -> None:
        config_backends[account_id][region_name].delete_configuration_aggregator(
            self.physical_resource_id
        )


class AggregationAuthorization(EmulatedResource):
    TYPE = "AWS::Config::AggregationAuthorization"
    ATTRIBUTES: ClassVar[dict[str, str]] = {"AggregationAuthorizationArn": "arn"}

    def apply(self) -> None:
        result = config_backends[self.account_id][self.region].put_aggregation_authorization(
            self.properties["AuthorizedAccountId"],
            self.properties["AuthorizedAwsRegion"],
            self.properties.get("Tags", []),
        )
        self.arn = result["AggregationAuthorizationArn"]

    def delete(self, account_id: str, region_name: str) -> None:
        config_backends[account_id][region_name].delete_aggregation_authorization(
            self.properties["AuthorizedAccountId"], self.properties["AuthorizedAwsRegion"]
        )


class ConfigurationRecorder(EmulatedResource):
    TYPE = "AWS::Config::ConfigurationRecorder"

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties.get("Name", generated)

    def apply(self) -> None:
        group = self.properties.get("RecordingGroup", {})
        recorder = {
            "name": self.physical_resource_id,
            "roleARN": self.properties["RoleARN"],
            "recordingGroup": {k[0].lower() + k[1:]: v for k, v in group.items()},
        }
        config_backends[self.account_id][self.region].put_configuration_recorder(recorder)

    def delete(self, account_id: str, region_name: str) -> None:
        config_backends[account_id][region_name].delete_configuration_recorder(
            self.physical_resource_id
        )


class DeliveryChannel(EmulatedResource):
    TYPE = "AWS::Config::DeliveryChannel"

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties.get("Name", generated)

    def apply(self) -> None:
        snapshot = self.properties.get("ConfigSnapshotDeliveryProperties", {})
        channel = {
            "name": self.physical_resource_id,
            "s3BucketName": self.properties["S3BucketName"],
        }
        for source, target in (
            ("S3KeyPrefix", "s3KeyPrefix"),
            ("S3KmsKeyArn", "s3KmsKeyArn"),
            ("SnsTopicARN", "snsTopicARN"),
        ):
            if source in self.properties:
                channel[target] = self.properties[source]
        if "DeliveryFrequency" in snapshot:
            channel["configSnapshotDeliveryProperties"] = {
                "deliveryFrequency": snapshot["DeliveryFrequency"]
            }
        config_backends[self.account_id][self.region].put_delivery_channel(channel)

    def delete(self, account_id: str, region_name: str) -> None:
        config_backends[account_id][region_name].delete_delivery_channel(self.physical_resource_id)


class Alarm(EmulatedResource):
    TYPE = "AWS::CloudWatch::Alarm"
    ATTRIBUTES: ClassVar[dict[str, str]] = {"Arn": "arn"}

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties.get("AlarmName", generated)

    def apply(self) -> None:
        p = self.properties
        alarm = cloudwatch_backends[self.account_id][self.region].put_metric_alarm(
            name=self.physical_resource_id,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]) if "Period" in p else None,
            threshold=float(p["Threshold"]),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            treat_missing_data=p.get("TreatMissingData"),
            actions_enabled=p.get("ActionsEnabled", True),
            tags=p.get("Tags", []),
        )
        self.arn = alarm.alarm_arn

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_resource_id])


class QueuePolicy(EmulatedResource):
    """Sets the queues' Policy attribute; moto stores it and does not enforce it."""

    TYPE = "AWS::SQS::QueuePolicy"

    def apply(self) -> None:
        backend = sqs_backends[self.account_id][self.region]
        for url in self.properties["Queues"]:
            backend.set_queue_attributes(
                url.rsplit("/", 1)[-1], {"Policy": _policy_text(self.properties["PolicyDocument"])}
            )

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in self.properties["Queues"]:
            name = url.rsplit("/", 1)[-1]
            if name in backend.queues:  # a deleted queue took its policy with it
                backend.set_queue_attributes(name, {"Policy": ""})


class TopicPolicy(EmulatedResource):
    """Sets the topics' Policy attribute; moto stores it and does not enforce it."""

    TYPE = "AWS::SNS::TopicPolicy"

    def apply(self) -> None:
        backend = sns_backends[self.account_id][self.region]
        for arn in self.properties["Topics"]:
            backend.get_topic(arn).policy = _policy_text(self.properties["PolicyDocument"])

    def delete(self, account_id: str, region_name: str) -> None:
        # CloudFormation restores the default policy; moto rebuilds it from an empty value.
        backend = sns_backends[account_id][region_name]
        for arn in self.properties["Topics"]:
            if arn in backend.topics:
                topic = backend.topics[arn]
                topic._policy_json = topic._create_default_topic_policy(
                    topic.region, topic.account_id, topic.name
                )


class BucketPolicy(EmulatedResource):
    """Stored with the bucket (get-bucket-policy); moto does not enforce it without auth."""

    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return properties["Bucket"]

    def apply(self) -> None:
        backend = s3_backends[self.account_id][get_partition(self.region)]
        backend.put_bucket_policy(
            self.physical_resource_id,
            _policy_text(self.properties["PolicyDocument"]).encode("utf-8"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(
            self.physical_resource_id
        )


class Subscription(EmulatedResource):
    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES: ClassVar[dict[str, str]] = {"Arn": "physical_resource_id"}

    def apply(self) -> None:
        backend = sns_backends[self.account_id][self.region]
        if not self.physical_resource_id.startswith("arn:"):
            subscription = backend.subscribe(
                self.properties["TopicArn"],
                self.properties["Endpoint"],
                self.properties["Protocol"],
            )
            self.physical_resource_id = subscription.arn
        for name in ("DeliveryPolicy", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy"):
            if name in self.properties:
                value = self.properties[name]
                backend.set_subscription_attributes(
                    self.physical_resource_id,
                    name,
                    value if isinstance(value, str) else json.dumps(value),
                )

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_resource_id)


class EventInvokeConfig(EmulatedResource):
    """Stored on moto's function (get-function-event-invoke-config); nothing is retried."""

    TYPE = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def name_of(cls, properties: dict, generated: str) -> str:
        return f"{properties['FunctionName']}:{properties.get('Qualifier', '$LATEST')}"

    def apply(self) -> None:
        config = {
            k: v
            for k, v in self.properties.items()
            if k in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig")
        }
        backend = lambda_backend(self.account_id, self.region)
        function = self.properties["FunctionName"]
        # put replaces the whole configuration, as CloudFormation's update does.
        backend.get_function(function).event_invoke_config = []
        backend.put_function_event_invoke_config(function, config)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_backend(account_id, region_name)
        try:
            function = backend.get_function(self.properties["FunctionName"])
        except UnknownFunctionException:
            return  # the function went first, and its configuration with it
        function.event_invoke_config = []


EMULATED_TYPES: dict[str, type[EmulatedResource]] = {
    cls.TYPE: cls
    for cls in (
        ConfigRule,
        ConfigurationAggregator,
        AggregationAuthorization,
        ConfigurationRecorder,
        DeliveryChannel,
        Alarm,
        QueuePolicy,
        TopicPolicy,
        BucketPolicy,
        Subscription,
        EventInvokeConfig,
        SlackChannelConfiguration,
        MicrosoftTeamsChannelConfiguration,
        RemediationConfiguration,
    )
}

# Where moto's own handler is wrong or missing a method: (class, method, replacement).
HANDLER_FIXES: tuple[tuple[type, str, Any], ...] = (
    (Key, "create_from_cloudformation_json", _create_key),
    (Key, "update_from_cloudformation_json", _update_key),
    (LogGroup, "create_from_cloudformation_json", _create_log_group),
    (LogGroup, "update_from_cloudformation_json", _update_log_group),
    (LambdaFunction, "create_from_cloudformation_json", _create_function),
    (LambdaFunction, "update_from_cloudformation_json", _update_function),
    (FakeBucket, "create_from_cloudformation_json", _create_bucket),
    (FakeBucket, "update_from_cloudformation_json", _update_bucket),
    (ManagedPolicy, "update_from_cloudformation_json", _update_managed_policy),
    (ManagedPolicy, "delete_from_cloudformation_json", _delete_managed_policy),
    (SsmParameter, "create_from_cloudformation_json", _create_ssm_parameter),
    (SsmParameter, "update_from_cloudformation_json", _update_ssm_parameter),
    (SsmDocument, "create_from_cloudformation_json", _create_ssm_document),
    (StateMachine, "create_from_cloudformation_json", _create_state_machine),
    (StateMachine, "update_from_cloudformation_json", _update_state_machine),
)


@contextmanager
def cloudformation_fixes() -> Iterator[None]:
    """moto's CloudFormation with the handlers above, for as long as the block runs."""
    original_lookup = parsing.resource_class_from_type

    def lookup(resource_type: str) -> Any:
        return EMULATED_TYPES.get(resource_type) or original_lookup(resource_type)

    with ExitStack() as stack:
        stack.callback(CHAT_CONFIGURATIONS.clear)  # they go with moto's state
        stack.enter_context(mock.patch.object(parsing, "resource_class_from_type", lookup))
        for cls, method, replacement in HANDLER_FIXES:
            stack.enter_context(mock.patch.object(cls, method, classmethod(replacement)))
        stack.enter_context(mock.patch.object(FakeBucket, "get_permission", _bucket_permission))
        # Both modules imported the function by name: patch each one's copy.
        for module in (cloudformation_models, cloudformation_responses):
            resolve = _loopback_template_url(module.get_stack_from_s3_url)
            stack.enter_context(mock.patch.object(module, "get_stack_from_s3_url", resolve))
        stack.enter_context(
            mock.patch.object(
                CloudFormationBackend,
                "execute_change_set",
                _execute_change_set(CloudFormationBackend.execute_change_set),
            )
        )
        yield


# --- Config compliance results ------------------------------------------------------------------
# moto stores Config rules but never evaluates them and has no compliance APIs. The emulator keeps
# evaluation results that the caller records (what a managed rule would have reported) and
# answers GetComplianceDetailsByConfigRule from them, paginated like Config (at most 100 a page),
# so the reporting handler runs for real against everything else.

MAX_COMPLIANCE_PAGE = 100


def _compliance_details(results: dict[str, list[dict]]) -> Any:
    def get_compliance_details_by_config_rule(response: ConfigResponse) -> str:
        name = response._get_param("ConfigRuleName")
        backend = config_backends[response.current_account][response.region]
        if name not in backend.config_rules:
            raise NoSuchConfigRuleException(name)
        wanted = set(response._get_param("ComplianceTypes") or [])
        found = [r for r in results.get(name, []) if not wanted or r["ComplianceType"] in wanted]
        return json.dumps(page(response, "EvaluationResults", found, MAX_COMPLIANCE_PAGE))

    return get_compliance_details_by_config_rule


# --- the server -------------------------------------------------------------------------------


@dataclass
class Invocation:
    function: str
    invocation_type: str
    payload: Any


class PortInUse(Exception):
    """The port asked for is taken on 127.0.0.1."""


@dataclass
class Emulator:
    """moto's server on 127.0.0.1, on `port` (0: a free port chosen by the OS), in this process.

    Lambda runs without Docker (moto's "simple" backend): an Invoke is answered, not executed.
    Every Invoke is recorded in `invocations`, so the caller can run the real handler in-process
    with the payload the caller sent.
    """

    region: str
    invocations: list[Invocation] = field(default_factory=list)
    # The last line of each error the server raised (a moto gap shows up here).
    server_errors: list[str] = field(default_factory=list)
    # Evaluation results by Config rule name, as `record_evaluation` stored them, of the
    # emulator's own account and region (what GetComplianceDetailsByConfigRule answers from).
    compliance: dict[str, list[dict]] = field(default_factory=dict)
    # Those of every account and region, for the aggregator APIs; the emulator's own are
    # `compliance` itself, so clearing it clears them there too.
    organization: Organization = field(default_factory=Organization)
    _server: ThreadedMotoServer | None = None
    _stack: ExitStack | None = None
    port: int = 0

    def __post_init__(self) -> None:
        self.organization.results[(ACCOUNT_ID, self.region)] = self.compliance

    @property
    def endpoint(self) -> str:
        return f"http://{ENDPOINT_HOST}:{self.port}"

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` pointed at the emulator, with dummy credentials only.

        Every AWS_* variable of `base` is dropped first, so a developer's profile, session token or
        real endpoint can never take part in a local run.
        """
        kept = {k: v for k, v in base.items() if not k.startswith("AWS_")}
        return {
            **kept,
            **DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # No config or credentials file: nothing from ~/.aws is read.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def start(self) -> None:
        stack = ExitStack()
        try:
            stack.enter_context(cloudformation_fixes())
            stack.enter_context(security_hub_additions())
            stack.enter_context(_quiet_loggers(self.server_errors))
            stack.enter_context(ops_items())
            stack.enter_context(remediation_additions(self.compliance))
            stack.enter_context(aggregator_additions(self.organization))
            stack.enter_context(
                mock.patch.object(LambdaSimpleBackend, "invoke", self._recording_invoke())
            )
            stack.enter_context(
                mock.patch.object(
                    ConfigResponse,
                    "get_compliance_details_by_config_rule",
                    _compliance_details(self.compliance),
                    create=True,
                )
            )
            if self.port:
                _check_port_free(self.port)
            server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
            server.start()
            stack.callback(_stop_server, server)
            self._server = server
            self.port = server.get_host_and_port()[1]
            # A clean slate, and Lambda without Docker (which this machine need not have).
            self._moto_api("reset", None)
            self._moto_api("config", {"lambda": {"use_docker": False}})
            stack.callback(self._moto_api, "config", {"lambda": {"use_docker": True}})
        except BaseException:
            stack.close()
            raise
        self._stack = stack

    def stop(self) -> None:
        stack, self._stack, self._server = self._stack, None, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record_evaluation(
        self,
        rule_name: str,
        resource_type: str,
        resource_id: str,
        compliance_type: str,
        annotation: str = "",
        at: float = 0.0,
        account: str = ACCOUNT_ID,
        region: str = "",
    ) -> None:
        """Store what Config would report for one resource of one rule (moto evaluates nothing),
        in the emulator's account and region unless another member of the organization is named
        (then only the aggregator APIs see it)."""
        results = self.organization.of(account, region or self.region)
        results.setdefault(rule_name, []).append(
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": rule_name,
                        "ResourceType": resource_type,
                        "ResourceId": resource_id,
                    },
                    "OrderingTimestamp": at,
                },
                "ComplianceType": compliance_type,
                "ResultRecordedTime": at,
                "ConfigRuleInvokedTime": at,
                **({"Annotation": annotation} if annotation else {}),
            }
        )

    def fail_source(self, account: str, region: str, code: str, message: str) -> None:
        """The aggregator reports this source FAILED (DescribeConfigurationAggregatorSourcesStatus),
        as when a member account revoked the aggregator's access."""
        self.organization.fail(account, region, code, message)

    def start_report_execution(self, state_machine_arn: str, input: dict, invoke: Invoke) -> dict:
        """Run the state machine moto holds under the ARN, in this process, as an execution moto
        records (describe-execution shows its outcome): each Lambda task is recorded in
        `invocations`, as an Invoke would be, and answered by `invoke`. Returns
        engine.run_state_machine's result with the execution's ARN."""
        region, account = state_machine_arn.split(":")[3:5]
        backend = stepfunctions_backends[account][region]
        machine = backend.describe_state_machine(state_machine_arn)
        execution = backend.start_execution(state_machine_arn, "", json.dumps(input))

        def recorded(function: str, payload: dict) -> Any:
            self.invocations.append(Invocation(function, "RequestResponse", payload))
            return invoke(function, payload)

        result = run_state_machine(
            json.loads(machine.definition), input, recorded, execution_id=execution.execution_arn
        )
        execution.status, execution.stop_date = result["status"], datetime.now(UTC)
        if result["status"] == "SUCCEEDED":
            execution.output = json.dumps(result["output"])
        else:
            execution.error, execution.cause = result["error"], result["cause"]
        return {**result, "executionArn": execution.execution_arn}

    def _moto_api(self, path: str, body: dict | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(
            f"http://{HOST}:{self.port}/moto-api/{path}", data=data, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def _recording_invoke(self) -> Any:
        invocations = self.invocations
        answer = LambdaSimpleBackend.invoke

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> Any:
            # Like Lambda, refuse an unknown function (moto's simple backend would answer anyway).
            backend.get_function(function_name, qualifier)
            try:
                payload = json.loads(body) if body else None
            except ValueError:
                payload = body
            invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            invocations.append(Invocation(function_name, invocation_type, payload))
            return answer(backend, function_name, qualifier, body, headers, response_headers)

        return invoke


def _check_port_free(port: int) -> None:
    """moto binds the port in a thread and waits for it without a timeout: a taken port would
    hang `start()` instead of failing. Bind it first, as the server will (address reuse on)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((HOST, port))
    except OSError as error:
        raise PortInUse(f"port {port} on {HOST} is in use ({error.strerror})") from None
    finally:
        probe.close()


def _stop_server(server: ThreadedMotoServer) -> None:
    server.stop()
    # ThreadedMotoServer.stop() ends serve_forever but leaves the socket bound; close it so the
    # port is free (and refuses connections) the moment the emulator has stopped.
    inner = getattr(server, "_server", None)
    if inner is not None:
        inner.server_close()


class _ErrorRecorder(logging.Handler):
    """Keeps the last line of each server-side error instead of a traceback on the console."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.errors.append(f"{type(error).__name__}: {error}")
            return
        lines = [line for line in record.getMessage().splitlines() if line.strip()]
        self.errors.append(lines[-1].strip() if lines else "")


@contextmanager
def _quiet_loggers(errors: list[str]) -> Iterator[None]:
    """One line per request (werkzeug) and per unsupported type (moto) would drown the output;
    server errors are recorded in `errors`."""
    werkzeug, moto_logger = logging.getLogger("werkzeug"), logging.getLogger("moto")
    saved = (werkzeug.level, werkzeug.propagate, moto_logger.level)
    recorder = _ErrorRecorder(errors)
    werkzeug.setLevel(logging.ERROR)
    werkzeug.propagate = False
    werkzeug.addHandler(recorder)
    moto_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        werkzeug.removeHandler(recorder)
        werkzeug.setLevel(saved[0])
        werkzeug.propagate = saved[1]
        moto_logger.setLevel(saved[2])
