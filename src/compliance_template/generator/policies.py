"""Every IAM, KMS, S3, SNS and SQS policy document of the stack, as pure functions.

Each function takes the ARNs it needs (intrinsic functions are fine) and returns a new awacs
document, so calling one twice never duplicates statements. A reviewer looking for "who can do
what" reads this one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import awacs.awslambda as lambda_
import awacs.config as config
import awacs.kms as kms
import awacs.logs as logs
import awacs.s3 as s3
import awacs.securityhub as securityhub
import awacs.sns as sns
import awacs.sqs as sqs
import awacs.ssm as ssm
import awacs.states as states
import awacs.sts as sts
from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    ArnLike,
    Bool,
    BoolIfExists,
    Condition,
    Deny,
    ForAllValuesStringEquals,
    Null,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringEqualsIfExists,
    StringLike,
    StringNotEquals,
)
from troposphere import AWSHelperFn, Ref, Sub

from .naming import (
    DIGEST_PENDING_PREFIX,
    DIGEST_SENT_PREFIX,
    FINDING_TAG_KEY,
    LATEST_PREFIX,
    OPS_ITEM_TAG_KEY,
    TICKETS_PREFIX,
    account_root,
    arn,
    service_principal,
)
from .remediation_rules import RuleGrants

Arn = str | AWSHelperFn
VERSION = "2012-10-17"
ENCRYPTION_HEADER = "s3:x-amz-server-side-encryption"
KEY_ID_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
ACCOUNT = Ref("AWS::AccountId")
# Key policy statements only a stack with its own topic needs.
TOPIC_KEY_STATEMENTS = ("AlarmsPublishToEncryptedTopic", "NotificationsRedriveToEncryptedQueues")


def _document(*statements: Statement) -> PolicyDocument:
    return PolicyDocument(Version=VERSION, Statement=list(statements))


def _objects(bucket_arn: Arn, prefix: str) -> Sub:
    return Sub(f"${{Bucket}}/{prefix}/*", Bucket=bucket_arn)


def _via_services(*services: str) -> list[Sub]:
    return [Sub(f"{service}.${{AWS::Region}}.amazonaws.com") for service in services]


def assume_role(service: str, *, source_account: bool = True) -> PolicyDocument:
    """Trust policy for a service role, limited to calls made on behalf of this account where
    the service is known to send aws:SourceAccount (`source_account`)."""
    condition = {"Condition": Condition(StringEquals("aws:SourceAccount", ACCOUNT))}
    return _document(
        Statement(
            Effect=Allow,
            Principal=Principal("Service", [service_principal(service)]),
            Action=[sts.AssumeRole],
            **(condition if source_account else {}),
        )
    )


def key_policy(
    function_roles: Sequence[Arn],
    organization_id: Arn | None = None,
    alarms_publish: bool = True,
) -> PolicyDocument:
    document = _key_policy(function_roles)
    if not alarms_publish:
        # An organization member has no topic of its own for alarms to publish to.
        statements = document.properties["Statement"]
        statements[:] = [s for s in statements if s.Sid not in TOPIC_KEY_STATEMENTS]
    if organization_id is not None:
        # Member accounts' processing functions write to the central bucket and publish to the
        # central topic, both encrypted with this key: data keys, through S3 and SNS only.
        _append(
            document,
            Statement(
                Sid="OrganizationMembersUseKeyThroughStorageAndMessaging",
                Effect=Allow,
                Principal=Principal("AWS", ["*"]),
                Action=[kms.GenerateDataKey, kms.Decrypt],
                Resource=["*"],
                # One operator, two keys: both must hold.
                Condition=Condition(
                    StringEquals(
                        {
                            "aws:PrincipalOrgID": organization_id,
                            "kms:ViaService": _via_services("s3", "sns"),
                        }
                    )
                ),
            ),
        )
    return document


def _append(document: PolicyDocument, statement: Statement) -> None:
    document.properties["Statement"].append(statement)


def _key_policy(function_roles: Sequence[Arn]) -> PolicyDocument:
    return _document(
        # Without this statement CloudFormation's PutKeyPolicy safety check rejects the policy,
        # and the key could never be administered again.
        Statement(
            Sid="AccountAdministersKey",
            Effect=Allow,
            Principal=Principal("AWS", [account_root()]),
            Action=[kms.Action("*")],
            Resource=["*"],
        ),
        # Nothing in the stack creates grants: CloudWatch Logs, S3, SNS, SQS and Config use the
        # key through this policy and the roles' permissions, and no function encrypts its
        # environment with it. So kms:* above may create a grant only when an AWS service
        # integrated with KMS asks on a principal's behalf; IfExists denies a request that
        # lacks the key as well.
        Statement(
            Sid="DenyGrantsNotForAwsResources",
            Effect=Deny,
            Principal=Principal("AWS", ["*"]),
            Action=[kms.CreateGrant],
            Resource=["*"],
            Condition=Condition(BoolIfExists("kms:GrantIsForAWSResource", "false")),
        ),
        Statement(
            Sid="CloudWatchLogsEncryptsLogGroups",
            Effect=Allow,
            Principal=Principal("Service", [service_principal("logs", regional=True)]),
            Action=[
                kms.Action("Encrypt*"),
                kms.Action("Decrypt*"),
                kms.Action("ReEncrypt*"),
                kms.Action("GenerateDataKey*"),
                kms.Action("Describe*"),
            ],
            Resource=["*"],
            Condition=Condition(
                ArnLike(
                    "kms:EncryptionContext:aws:logs:arn",
                    arn("logs", "log-group:*"),
                )
            ),
        ),
        # Alarms publish to the encrypted topic; the AWS-managed SNS key would not let them.
        Statement(
            Sid="AlarmsPublishToEncryptedTopic",
            Effect=Allow,
            Principal=Principal("Service", [service_principal("cloudwatch")]),
            Action=[kms.Action("GenerateDataKey*"), kms.Decrypt],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceAccount", ACCOUNT)),
        ),
        # SNS moves notifications it could not deliver to the subscriptions' encrypted redrive
        # queues, calling KMS as its service principal (SQS developer guide, "Configure KMS
        # permissions for AWS services": no condition given). Each queue's policy lets only our
        # topic send to it.
        _service_writes_encrypted_queue("NotificationsRedriveToEncryptedQueues", "sns"),
        # EventBridge writes events it could not deliver to the encrypted dead-letter queue.
        # No aws:SourceAccount/SourceArn here: EventBridge's KMS requests do not carry them, so
        # such a condition would silently drop every dead letter. The queue policy scopes
        # EventBridge to our two rules.
        _service_writes_encrypted_queue("EventBridgeWritesEncryptedDeadLetters", "events"),
        # The functions write SSE-KMS objects, publish to the topic and (through Lambda) send
        # failed events to the queue: data keys and decryption, only through those services.
        Statement(
            Sid="FunctionsUseKeyThroughStorageAndMessaging",
            Effect=Allow,
            Principal=Principal("AWS", list(function_roles)),
            Action=[kms.GenerateDataKey, kms.Decrypt],
            Resource=["*"],
            Condition=Condition(StringEquals("kms:ViaService", _via_services("s3", "sns", "sqs"))),
        ),
    )


def _service_writes_encrypted_queue(sid: str, service: str) -> Statement:
    """What an AWS service needs to send to a queue encrypted with the key (SQS developer guide,
    "Configure KMS permissions for AWS services")."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", [service_principal(service)]),
        Action=[kms.Action("GenerateDataKey*"), kms.Decrypt],
        Resource=["*"],
    )


# S3 resolves this policy variable to the calling principal's account (docs/aws-facts.md). Inside
# Fn::Sub it is written ${!...}, which CloudFormation passes on as ${...}.
CALLER_ACCOUNT = "${aws:PrincipalAccount}"
# Compliance records are partitioned by date first (year=YYYY/month=MM/day=DD/account=...): `?`
# matches one character, so a member cannot place an object under another account's folder.
RECORD_DATES = "year=????/month=??/day=??"


def member_scopes(member_prefix: str) -> tuple[str, ...]:
    """The folders of the calling member account, one per key layout it writes (without the
    trailing ``*``): records, exemption notices, latest evaluations, OpsItem ids, digests."""
    own = f"account={CALLER_ACCOUNT}/"
    return (
        f"{member_prefix}/{RECORD_DATES}/{own}",
        f"{member_prefix}/exemption-notices/{own}",
        *(
            f"{prefix}/{own}"
            for prefix in (LATEST_PREFIX, TICKETS_PREFIX, DIGEST_PENDING_PREFIX, DIGEST_SENT_PREFIX)
        ),
    )


def bucket_policy(
    bucket_arn: Arn,
    key_arn: Arn,
    organization_id: Arn | None = None,
    member_prefix: str | None = None,
) -> PolicyDocument:
    document = _bucket_policy(bucket_arn, key_arn)
    if organization_id is not None and member_prefix is not None:
        # Member accounts' processing functions record compliance changes here (and read their
        # own records back to detect duplicates), keep the latest evaluation per rule and
        # resource, their OpsItem ids and digests; nothing else, only inside the organization,
        # and each only under its own account's folders.
        in_organization = StringEquals("aws:PrincipalOrgID", organization_id)
        scopes = member_scopes(member_prefix)
        _append(
            document,
            Statement(
                Sid="OrganizationMembersRecordChanges",
                Effect=Allow,
                Principal=Principal("AWS", ["*"]),
                Action=[s3.GetObject, s3.PutObject],
                Resource=[
                    Sub("${Bucket}/" + scope.replace("${", "${!") + "*", Bucket=bucket_arn)
                    for scope in scopes
                ],
                Condition=Condition(in_organization),
            ),
        )
        _append(
            document,
            Statement(
                Sid="OrganizationMembersListChanges",
                Effect=Allow,
                Principal=Principal("AWS", ["*"]),
                Action=[s3.ListBucket],
                Resource=[bucket_arn],
                Condition=Condition(
                    [
                        in_organization,
                        # Their records, and digest-pending/: the digest job of members with
                        # `digest` rules.
                        StringLike(
                            "s3:prefix",
                            [
                                f"{scope}*"
                                for scope in scopes
                                if scope.startswith((f"{member_prefix}/", DIGEST_PENDING_PREFIX))
                            ],
                        ),
                    ]
                ),
            ),
        )
    return document


def _bucket_policy(bucket_arn: Arn, key_arn: Arn) -> PolicyDocument:
    objects = Sub("${Bucket}/*", Bucket=bucket_arn)
    return _document(
        Statement(
            Sid="DenyInsecureTransport",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.Action("*")],
            Resource=[bucket_arn, objects],
            Condition=Condition(Bool("aws:SecureTransport", "false")),
        ),
        # Uploads without an encryption header get the bucket default (SSE-KMS, our key);
        # uploads asking for anything else (SSE-S3, SSE-C, another key) are refused. Each deny
        # also requires the header to be present (Null false): a negated operator, or any
        # ...IfExists one, is true when the key is absent, which would refuse every upload
        # that relies on the default.
        Statement(
            Sid="DenyOtherEncryption",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.PutObject],
            Resource=[objects],
            Condition=Condition(
                [
                    StringNotEquals(ENCRYPTION_HEADER, "aws:kms"),
                    Null(ENCRYPTION_HEADER, "false"),
                ]
            ),
        ),
        Statement(
            Sid="DenyOtherKmsKey",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.PutObject],
            Resource=[objects],
            Condition=Condition(
                [StringNotEquals(KEY_ID_HEADER, key_arn), Null(KEY_ID_HEADER, "false")]
            ),
        ),
        # SSE-KMS asked for without a key id would use the AWS managed key aws/s3, not ours.
        Statement(
            Sid="DenyKmsWithoutOurKey",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.PutObject],
            Resource=[objects],
            Condition=Condition(Null({ENCRYPTION_HEADER: "false", KEY_ID_HEADER: "true"})),
        ),
        Statement(
            Sid="DenyCustomerProvidedKeys",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[s3.PutObject],
            Resource=[objects],
            Condition=Condition(
                Null("s3:x-amz-server-side-encryption-customer-algorithm", "false")
            ),
        ),
    )


def topic_policy(
    topic_arn: Arn, publisher_roles: Sequence[Arn], organization_id: Arn | None = None
) -> PolicyDocument:
    document = _topic_policy(topic_arn, publisher_roles)
    if organization_id is not None:
        _append(
            document,
            Statement(
                Sid="OrganizationMembersPublish",
                Effect=Allow,
                Principal=Principal("AWS", ["*"]),
                Action=[sns.Publish],
                Resource=[topic_arn],
                Condition=Condition(StringEquals("aws:PrincipalOrgID", organization_id)),
            ),
        )
    return document


def _topic_policy(topic_arn: Arn, publisher_roles: Sequence[Arn]) -> PolicyDocument:
    return _document(
        Statement(
            Sid="FunctionsPublish",
            Effect=Allow,
            Principal=Principal("AWS", list(publisher_roles)),
            Action=[sns.Publish],
            Resource=[topic_arn],
        ),
        Statement(
            Sid="AlarmsPublish",
            Effect=Allow,
            Principal=Principal("Service", [service_principal("cloudwatch")]),
            Action=[sns.Publish],
            Resource=[topic_arn],
            Condition=Condition(
                [
                    StringEquals("aws:SourceAccount", ACCOUNT),
                    ArnLike("aws:SourceArn", arn("cloudwatch", "alarm:*")),
                ]
            ),
        ),
        Statement(
            Sid="DenyInsecureTransport",
            Effect=Deny,
            Principal=Principal("*"),
            Action=[sns.Publish],
            Resource=[topic_arn],
            Condition=Condition(Bool("aws:SecureTransport", "false")),
        ),
    )


def queue_policy(queue_arn: Arn, event_rules: Sequence[Arn]) -> PolicyDocument:
    """EventBridge sends events it could not deliver to our rules' targets here."""
    return _document(
        Statement(
            Sid="EventBridgeDeadLetters",
            Effect=Allow,
            Principal=Principal("Service", [service_principal("events")]),
            Action=[sqs.SendMessage],
            Resource=[queue_arn],
            Condition=Condition(ArnEquals("aws:SourceArn", list(event_rules))),
        ),
        _deny_insecure_queue_access(queue_arn),
    )


def redrive_queue_policy(queue_arn: Arn, topic_arn: Arn) -> PolicyDocument:
    """SNS moves what it could not deliver from our topic to a subscription's redrive queue."""
    return _document(
        Statement(
            Sid="TopicRedrivesUndeliverable",
            Effect=Allow,
            Principal=Principal("Service", [service_principal("sns")]),
            Action=[sqs.SendMessage],
            Resource=[queue_arn],
            Condition=Condition(ArnEquals("aws:SourceArn", topic_arn)),
        ),
        _deny_insecure_queue_access(queue_arn),
    )


def _deny_insecure_queue_access(queue_arn: Arn) -> Statement:
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[sqs.Action("*")],
        Resource=[queue_arn],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )


def _function_basics(
    log_group_arn: Arn, queue_arn: Arn, topic_arn: Arn, bucket_arn: Arn, prefix: str
) -> list[Statement]:
    """What every function needs: its own log group, its bucket prefix, the topic and the DLQ."""
    return [
        Statement(
            Sid="WriteOwnLogs",
            Effect=Allow,
            Action=[logs.CreateLogStream, logs.PutLogEvents],
            Resource=[log_group_arn],
        ),
        Statement(
            Sid="ReadWriteOwnPrefix",
            Effect=Allow,
            Action=[s3.GetObject, s3.PutObject],
            Resource=[_objects(bucket_arn, prefix)],
        ),
        Statement(
            Sid="ListOwnPrefix",
            Effect=Allow,
            Action=[s3.ListBucket],
            Resource=[bucket_arn],
            Condition=Condition(StringLike("s3:prefix", [f"{prefix}/*"])),
        ),
        Statement(Sid="Notify", Effect=Allow, Action=[sns.Publish], Resource=[topic_arn]),
        # Lambda sends failed asynchronous invocations to the DLQ with the function's role.
        Statement(Sid="DeadLetters", Effect=Allow, Action=[sqs.SendMessage], Resource=[queue_arn]),
    ]


def latest_evaluation_statement(bucket_arn: Arn) -> Statement:
    """Processing keeps the newest evaluation per rule and resource: it reads the object only
    after a refused create, so it never asks for a missing key and needs no s3:ListBucket."""
    return Statement(
        Sid="KeepLatestEvaluations",
        Effect=Allow,
        Action=[s3.GetObject, s3.PutObject],
        Resource=[_objects(bucket_arn, LATEST_PREFIX)],
    )


def exemption_statements(parameter_arns: Sequence[Arn]) -> list[Statement]:
    """Read the stack's exemption parameters, only those (String type: no KMS grant needed)."""
    if not parameter_arns:
        return []
    return [
        Statement(
            Sid="ReadExemptions",
            Effect=Allow,
            Action=[ssm.GetParameters],
            Resource=list(parameter_arns),
        )
    ]


def expiry_review_statement(rule_arns: Sequence[Arn]) -> list[Statement]:
    """The exemption review reads which resources still fail the rules an expired exemption
    named, so they are handled as new violations; only those rules."""
    if not rule_arns:
        return []
    return [
        # Finds the rules by name, as reporting does; the action takes no resource-level grant.
        Statement(
            Sid="ListRulesForReview",
            Effect=Allow,
            Action=[config.DescribeConfigRules],
            Resource=["*"],
        ),
        Statement(
            Sid="ReadExemptRuleResults",
            Effect=Allow,
            Action=[config.GetComplianceDetailsByConfigRule],
            Resource=list(rule_arns),
        ),
    ]


def processing_policy(
    log_group_arn: Arn,
    queue_arn: Arn,
    topic_arn: Arn,
    bucket_arn: Arn,
    prefix: str,
    remediation_arn: Arn | None,
    remote_key_arn: Arn | None = None,
    exemption_parameters: Sequence[Arn] = (),
    digest: bool = False,
    exempt_rule_arns: Sequence[Arn] = (),
) -> PolicyDocument:
    extra = [
        latest_evaluation_statement(bucket_arn),
        *exemption_statements(exemption_parameters),
        *expiry_review_statement(exempt_rule_arns),
    ]
    if digest:
        extra.extend(digest_statements(bucket_arn))
    if remediation_arn is not None:
        extra.append(
            Statement(
                Sid="HandOffToRemediation",
                Effect=Allow,
                Action=[lambda_.InvokeFunction],
                Resource=[remediation_arn],
            )
        )
    if remote_key_arn is not None:
        # The central bucket and topic are encrypted with the central account's key: using a key
        # of another account needs this grant as well as the key policy's.
        extra.append(
            Statement(
                Sid="UseCentralKey",
                Effect=Allow,
                Action=[kms.GenerateDataKey, kms.Decrypt],
                Resource=[remote_key_arn],
            )
        )
    return _document(
        *_function_basics(log_group_arn, queue_arn, topic_arn, bucket_arn, prefix), *extra
    )


def digest_statements(bucket_arn: Arn) -> list[Statement]:
    """The digest job lists and deletes the pending changes it sent, and claims each digest with
    a conditional write in digest-sent/ before publishing it: only its own account's and
    region's (digest.py), as the central bucket is shared by every member."""
    here = "account=${AWS::AccountId}/region=${AWS::Region}"
    return [
        Statement(
            Sid="KeepDigestEntries",
            Effect=Allow,
            Action=[s3.GetObject, s3.PutObject, s3.DeleteObject],
            Resource=[_objects(bucket_arn, f"{DIGEST_PENDING_PREFIX}/{here}")],
        ),
        Statement(
            Sid="ListDigestEntries",
            Effect=Allow,
            Action=[s3.ListBucket],
            Resource=[bucket_arn],
            Condition=Condition(
                StringLike("s3:prefix", [Sub(f"{DIGEST_PENDING_PREFIX}/{here}/*")])
            ),
        ),
        Statement(
            Sid="ClaimDigests",
            Effect=Allow,
            Action=[s3.GetObject, s3.PutObject],
            Resource=[_objects(bucket_arn, f"{DIGEST_SENT_PREFIX}/{here}")],
        ),
    ]


def ops_items_policy(bucket_arn: Arn) -> PolicyDocument:
    """Processing opens an OpsItem per violation and resolves it later (CreateOpsItems=true).

    CreateOpsItem has no resource type, only the request-tag condition keys, so the function may
    create OpsItems only tagged with this stack's name and no other tag; UpdateOpsItem is scoped
    to the account's and region's OpsItems carrying that tag: the function can change only the
    OpsItems it opened (docs/aws-facts.md, "Systems Manager OpsCenter").
    """
    stack_name = Ref("AWS::StackName")
    # The request carries exactly one tag, ours: CreateOpsItem and the tagging it implies.
    only_our_tag = Condition(
        [
            StringEquals(f"aws:RequestTag/{OPS_ITEM_TAG_KEY}", stack_name),
            ForAllValuesStringEquals("aws:TagKeys", [OPS_ITEM_TAG_KEY]),
        ]
    )
    return _document(
        Statement(
            Sid="OpenTaggedOpsItems",
            Effect=Allow,
            Action=[ssm.CreateOpsItem],
            Resource=["*"],
            Condition=only_our_tag,
        ),
        # Tags given at creation are applied as a tagging request on the new OpsItem: AWS's own
        # managed policies that open tagged OpsItems (DevOps Guru's, CloudWatch investigations')
        # grant ssm:AddTagsToResource on opsitem/* beside CreateOpsItem. Only our one tag.
        Statement(
            Sid="TagOpenedOpsItems",
            Effect=Allow,
            Action=[ssm.AddTagsToResource],
            Resource=[arn("ssm", "opsitem/*")],
            Condition=only_our_tag,
        ),
        Statement(
            Sid="ResolveOwnOpsItems",
            Effect=Allow,
            Action=[ssm.UpdateOpsItem],
            Resource=[arn("ssm", "opsitem/*")],
            Condition=Condition(StringEquals(f"aws:ResourceTag/{OPS_ITEM_TAG_KEY}", stack_name)),
        ),
        Statement(
            Sid="KeepOpsItemIds",
            Effect=Allow,
            Action=[s3.GetObject, s3.PutObject],
            Resource=[_objects(bucket_arn, TICKETS_PREFIX)],
        ),
    )


# The workflow statuses processing may set: SUPPRESSED for an exemption, NEW to reopen a finding
# it suppressed once the exemption no longer covers it.
SECURITY_HUB_WORKFLOW_STATUSES = ("NEW", "SUPPRESSED")
WORKFLOW_STATUS_KEY = "securityhub:ASFFSyntaxPath/Workflow.Status"


def security_hub_annotate_policy(*, may_set_workflow: bool) -> PolicyDocument:
    """Find this account's findings and write their note (and, for processing, the workflow
    status), in this region's hub only. A request that changes any other customer field is not
    allowed: each field is a condition key of BatchUpdateFindings, absent unless set."""
    untouched = {
        f"securityhub:ASFFSyntaxPath/{field}": "true"
        for field in ("Severity.Label", "Confidence", "Criticality", "VerificationState", "Types")
    }
    if not may_set_workflow:
        untouched[WORKFLOW_STATUS_KEY] = "true"
    conditions = [Null(untouched)]
    if may_set_workflow:
        conditions.append(
            StringEqualsIfExists(WORKFLOW_STATUS_KEY, list(SECURITY_HUB_WORKFLOW_STATUSES))
        )
    hub = arn("securityhub", "hub/default")
    return _document(
        Statement(
            Sid="FindRuleFindings",
            Effect=Allow,
            Action=[securityhub.GetFindings],
            Resource=[hub],
        ),
        Statement(
            Sid="AnnotateFindings",
            Effect=Allow,
            Action=[securityhub.BatchUpdateFindings],
            Resource=[hub],
            Condition=Condition(conditions),
        ),
    )


def security_hub_import_policy() -> PolicyDocument:
    """Import findings to the account's own default product, about this account only (mode
    `import`); securityhub:TargetAccount is the findings' AwsAccountId."""
    return _document(
        Statement(
            Sid="ImportOwnFindings",
            Effect=Allow,
            Action=[securityhub.BatchImportFindings],
            Resource=[arn("securityhub", "product/${AWS::AccountId}/default")],
            Condition=Condition(StringEquals("securityhub:TargetAccount", ACCOUNT)),
        )
    )


def reporting_policy(
    log_group_arn: Arn,
    queue_arn: Arn,
    topic_arn: Arn,
    bucket_arn: Arn,
    prefix: str,
    rule_arns: Sequence[Arn],
    aggregator_arn: Arn,
    exemption_parameters: Sequence[Arn] = (),
) -> PolicyDocument:
    statements = [
        *_function_basics(log_group_arn, queue_arn, topic_arn, bucket_arn, prefix),
        *exemption_statements(exemption_parameters),
        # These two list actions do not support resource-level permissions.
        Statement(
            Sid="ListRules",
            Effect=Allow,
            Action=[config.DescribeConfigRules, config.DescribeComplianceByConfigRule],
            Resource=["*"],
        ),
    ]
    if rule_arns:
        statements.append(
            Statement(
                Sid="ReadRuleResults",
                Effect=Allow,
                Action=[config.GetComplianceDetailsByConfigRule],
                Resource=list(rule_arns),
            )
        )
    statements.append(
        Statement(
            Sid="ReadAggregatedResults",
            Effect=Allow,
            Action=[
                config.DescribeAggregateComplianceByConfigRules,
                config.DescribeConfigurationAggregatorSourcesStatus,
                config.GetAggregateComplianceDetailsByConfigRule,
                config.SelectAggregateResourceConfig,
            ],
            Resource=[aggregator_arn],
        )
    )
    return _document(*statements)


@dataclass(frozen=True)
class RemediationScope:
    """What the actions a remediation rule module declares on this scope are granted on."""

    resources: list[Arn]
    read_sid: str | None = None  # Sid of the statement with the reads; None: no reads here
    condition: Condition | None = None


def remediation_scopes() -> dict[str, RemediationScope]:
    """The scopes the rule modules (functions/remediation/rules) name, in statement order.

    The read Sids are those of the first four rules' hand-written statements, kept so the
    policies did not change when they became derived from the rule modules.
    """
    return {
        "s3-bucket": RemediationScope([Sub("arn:${AWS::Partition}:s3:::*")], "ReadBucketState"),
        # RDS authorizes these per DB instance: this account's instances in this region.
        "rds-db-instance": RemediationScope([arn("rds", "db:*")], "ReadDbInstances"),
        # Actions without resource-level permissions: EC2's Describe calls, account settings.
        "any": RemediationScope(["*"], "ReadComputeState"),
        # Flag instances of an undesired type: this tag key only, never stop or resize.
        "ec2-instance-finding-tag": RemediationScope(
            [arn("ec2", "instance/*")],
            condition=Condition(ForAllValuesStringEquals("aws:TagKeys", [FINDING_TAG_KEY])),
        ),
    }


def _scoped_statement(sid: str, scope: RemediationScope, actions: Iterable[str]) -> Statement:
    """Actions sorted, so the statement does not depend on which rule declared one first."""
    extra = {"Condition": scope.condition} if scope.condition is not None else {}
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[Action(*name.split(":", 1)) for name in sorted(set(actions))],
        Resource=scope.resources,
        **extra,
    )


def _check_scope(scopes: Mapping[str, RemediationScope], name: str, rule: RuleGrants) -> None:
    if name not in scopes:
        raise ValueError(
            f"remediation rule {rule.identifier}: unknown scope {name!r}; "
            f"known: {', '.join(scopes)}"
        )


def remediation_read_policy(
    log_group_arn: Arn,
    queue_arn: Arn,
    topic_arn: Arn,
    bucket_arn: Arn,
    prefix: str,
    rules: Sequence[RuleGrants],
    exemption_parameters: Sequence[Arn] = (),
) -> PolicyDocument:
    """What remediation needs to decide: the reads every rule module declares, granted in every
    mode, one statement per scope, and the exemptions it re-checks."""
    scopes = remediation_scopes()
    reads: dict[str, set[str]] = {}
    for rule in rules:
        for scope, actions in rule.reads.items():
            _check_scope(scopes, scope, rule)
            if scopes[scope].read_sid is None:
                raise ValueError(f"remediation rule {rule.identifier}: no reads on {scope!r}")
            reads.setdefault(scope, set()).update(actions)
    return _document(
        *_function_basics(log_group_arn, queue_arn, topic_arn, bucket_arn, prefix),
        *exemption_statements(exemption_parameters),
        *(
            _scoped_statement(scope.read_sid, scope, reads[name])
            for name, scope in scopes.items()
            if name in reads and scope.read_sid is not None
        ),
    )


def remediation_write_policy(rules: Sequence[RuleGrants]) -> PolicyDocument:
    """The fixes every rule module declares, one statement each, by scope then identifier;
    attached only when RemediationMode is `enforce`."""
    scopes = remediation_scopes()
    writes: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for rule in sorted(rules, key=lambda r: r.identifier):
        for sid, (scope, actions) in rule.writes.items():
            _check_scope(scopes, scope, rule)
            writes.setdefault(scope, []).append((sid, actions))
    sids = [sid for fixes in writes.values() for sid, _ in fixes]
    if len(sids) != len(set(sids)):
        raise ValueError(f"remediation rules: write statement Sids repeat: {sorted(sids)}")
    return _document(
        *(
            _scoped_statement(sid, scope, actions)
            for name, scope in scopes.items()
            for sid, actions in writes.get(name, ())
        )
    )


def config_delivery_policy(bucket_arn: Arn, key_arn: Arn, prefix: str) -> PolicyDocument:
    """AWS_ConfigRole covers reading resources, not delivering to our bucket: add that."""
    return _document(
        Statement(
            Sid="CheckBucket",
            Effect=Allow,
            Action=[s3.GetBucketAcl, s3.ListBucket],
            Resource=[bucket_arn],
        ),
        Statement(
            Sid="DeliverSnapshots",
            Effect=Allow,
            Action=[s3.PutObject],
            Resource=[
                Sub(f"${{Bucket}}/{prefix}/AWSLogs/${{AWS::AccountId}}/*", Bucket=bucket_arn)
            ],
        ),
        Statement(
            Sid="EncryptSnapshots",
            Effect=Allow,
            Action=[kms.GenerateDataKey, kms.Decrypt],
            Resource=[key_arn],
        ),
    )


def automation_assume_role() -> PolicyDocument:
    """Trust of an automation role: Systems Manager Automation, for executions of this account
    and region only (confused-deputy protection as the Automation setup guide recommends,
    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-iam.html, read
    2026-12-02)."""
    return _document(
        Statement(
            Effect=Allow,
            Principal=Principal("Service", [service_principal("ssm")]),
            Action=[sts.AssumeRole],
            Condition=Condition(
                [
                    StringEquals("aws:SourceAccount", ACCOUNT),
                    ArnLike("aws:SourceArn", arn("ssm", "automation-execution/*")),
                ]
            ),
        )
    )


# Where a runbook's actions are granted, by IAM service prefix: this account's resources in this
# region. S3 bucket ARNs carry neither region nor account, IAM's no region.
AUTOMATION_SCOPES: Mapping[str, Arn] = {
    "s3": Sub("arn:${AWS::Partition}:s3:::*"),
    "iam": arn("iam", "*", region=False),
}


def automation_scope(service: str) -> Arn:
    return AUTOMATION_SCOPES.get(service) or arn(service, "*")


def automation_policy(actions: Iterable[str]) -> PolicyDocument:
    """What the runbooks of one family do (their reference pages' required permissions), one
    statement per service on that service's resources of this account and region, and one on
    "*" for the actions that take no resource type (NO_RESOURCE_ACTIONS)."""
    by_service: dict[tuple[str, bool], set[str]] = {}
    for action in actions:
        service = action.split(":", 1)[0]
        by_service.setdefault((service, action in NO_RESOURCE_ACTIONS), set()).add(action)
    return _document(
        *(
            Statement(
                Sid=f"Runbooks{''.join(c for c in service.title() if c.isalnum())}"
                + ("AnyResource" if unscoped else ""),
                Effect=Allow,
                Action=[Action(*name.split(":", 1)) for name in sorted(names)],
                Resource=["*"] if unscoped else [automation_scope(service)],
            )
            for (service, unscoped), names in sorted(by_service.items())
        )
    )


def approval_wrapper_policy(
    documents: Sequence[str], role_arn: Arn, topic_arn: Arn, key_arn: Arn
) -> PolicyDocument:
    """What a stack-owned approval runbook needs on top of the AWS-owned one it wraps: start it
    (AWS-owned documents are named without an account, per
    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-identity-based-policies.html,
    read 2026-12-02), follow its execution, pass this role to it, and notify the approvers on
    the encrypted approval topic."""
    return _document(
        Statement(
            Sid="StartWrappedRunbook",
            Effect=Allow,
            Action=[ssm.StartAutomationExecution],
            Resource=[
                *(
                    Sub(
                        f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:{owner}:{kind}/{name}{version}"
                    )
                    for name in documents
                    # The guide's example form (no account), and the Service Authorization
                    # Reference's automation-definition/<name>:<version>, whose account part
                    # for an AWS-owned document is not documented: any, for this name only
                    # (customers cannot name a document AWS-*).
                    for owner, kind, version in (
                        ("", "document", ""),
                        ("*", "automation-definition", ":*"),
                    )
                ),
                arn("ssm", "automation-execution/*"),
            ],
        ),
        Statement(
            Sid="FollowWrappedRunbook",
            Effect=Allow,
            Action=[ssm.GetAutomationExecution],
            Resource=[arn("ssm", "automation-execution/*")],
        ),
        Statement(
            Sid="PassThisRoleToWrappedRunbook",
            Effect=Allow,
            Action=[Action("iam", "PassRole")],
            Resource=[role_arn],
            Condition=Condition(StringEquals("iam:PassedToService", service_principal("ssm"))),
        ),
        Statement(
            Sid="NotifyApprovers",
            Effect=Allow,
            Action=[sns.Publish],
            Resource=[topic_arn],
        ),
        Statement(
            Sid="UseKeyOfApprovalTopic",
            Effect=Allow,
            Action=[kms.Action("GenerateDataKey*"), kms.Decrypt],
            Resource=[key_arn],
        ),
    )


def ssm_remediation_statements() -> PolicyDocument:
    """Processing places remediation exceptions for exempt resources and, for rules with
    exemptions in enforce mode, starts their remediation itself. Neither action takes a
    resource-level permission (parliament's IAM database, from the Service Authorization
    Reference), so they are granted on "*": what they can start is only the remediation
    configurations of this account, which name our runbooks and roles; Config runs them with
    its own service-linked role."""
    return _document(
        Statement(
            Sid="RemediateThroughConfig",
            Effect=Allow,
            Action=[config.PutRemediationExceptions, config.StartRemediationExecution],
            Resource=["*"],
        ),
    )


# Facts of the runbooks' IAM actions from the Service Authorization Reference, as parliament's
# IAM database has them (tests/test_remediation_policies.py keeps both in step with
# remediations.json, so a new document's actions are classified before it ships):
# actions that take no resource type, granted on "*" (a scoped ARN would grant nothing) ...
NO_RESOURCE_ACTIONS = frozenset(
    {
        "config:GetResourceConfigHistory",
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:EnableEbsEncryptionByDefault",
        "ec2:GetEbsEncryptionByDefault",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
        "redshift:DescribeClusters",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    }
)
# ... and actions of the access level "Permissions management": their policy carries a
# reasoned parliament skip.
PERMISSIONS_MANAGEMENT_ACTIONS = frozenset(
    {
        "s3:DeleteBucketPolicy",
        "s3:PutAccountPublicAccessBlock",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "sns:SetTopicAttributes",
    }
)
# Actions that rewrite a resource policy, which parliament reads as a possible escalation.
RESOURCE_POLICY_ACTIONS = frozenset({"s3:PutBucketPolicy"})


# Step Functions encrypts a state machine's definition and execution data with its customer
# managed key, under this encryption context (docs/aws-facts.md, "Step Functions").
STATES_CONTEXT = "kms:EncryptionContext:aws:states:stateMachineArn"


def _state_machine_key(key_arn: Arn, state_machine_arn: Arn) -> Statement:
    return Statement(
        Sid="UseKeyForTheReportStateMachine",
        Effect=Allow,
        Action=[kms.GenerateDataKey, kms.Decrypt],
        Resource=[key_arn],
        Condition=Condition(StringEquals(STATES_CONTEXT, state_machine_arn)),
    )


def report_engine_policy(function_arn: Arn, key_arn: Arn, state_machine_arn: Arn) -> PolicyDocument:
    """What the report state machine does: invoke the reporting function, deliver its own
    logs, use the stack's key for its data."""
    return _document(
        Statement(
            Sid="InvokeReporting",
            Effect=Allow,
            Action=[lambda_.InvokeFunction],
            Resource=[function_arn, Sub("${Arn}:*", Arn=function_arn)],
        ),
        # Log delivery actions take no resource-level permissions (Step Functions developer
        # guide, "IAM policies for logging to CloudWatch Logs").
        Statement(
            Sid="DeliverExecutionLogs",
            Effect=Allow,
            Action=[
                logs.CreateLogDelivery,
                logs.GetLogDelivery,
                logs.UpdateLogDelivery,
                logs.DeleteLogDelivery,
                logs.ListLogDeliveries,
                logs.PutResourcePolicy,
                logs.DescribeResourcePolicies,
                logs.DescribeLogGroups,
            ],
            Resource=["*"],
        ),
        _state_machine_key(key_arn, state_machine_arn),
    )


def report_schedule_policy(state_machine_arn: Arn, key_arn: Arn) -> PolicyDocument:
    """EventBridge starts the report state machine, and nothing else."""
    return _document(
        Statement(
            Sid="StartReport",
            Effect=Allow,
            Action=[states.StartExecution],
            Resource=[state_machine_arn],
        ),
        # The execution's input is encrypted with the state machine's key on StartExecution.
        _state_machine_key(key_arn, state_machine_arn),
    )
