"""The ssm engine's resources: one AWS::Config::RemediationConfiguration per ssm-engine rule, one
automation role per runbook family, and for disruptive runbooks a stack-owned approval wrapper
with its topic.

Which rule gets which engine is remediation_engines.plan(); the facts of each AWS-owned document
come from ssm_documents. RemediationMode governs both engines: off deploys no configuration,
dry-run a manual one (the console's Remediate button, StartRemediationExecution), enforce an
automatic one with retry settings.
"""

from __future__ import annotations

import json

from troposphere import And, Condition, GetAtt, If, Ref, Sub, awslambda, config, iam
from troposphere import sns as troposphere_sns
from troposphere import ssm as troposphere_ssm

from ..parameter_spec import ParameterSpec
from . import policies
from .catalog import CATALOG
from .conditions import ENFORCE_REMEDIATION, IN_REMEDIATION_REGION, REMEDIATION_ON, add_conditions
from .notifications import redrive_queue
from .parameters import BASE_PARAMETERS, REMEDIATION_PARAMETERS, add_parameter
from .regions import json_of_available, rule_condition
from .remediation_engines import SsmChoice, Starter, families, plan
from .selection import RuleChoice
from .ssm_documents import RESOURCE_ID, FillKind, SsmDocument
from .stack import Stack

# Config's defaults, set explicitly so enforce mode always has retry settings: after 5 failed
# attempts within 60 s Config places a remediation exception on the resource. The API allows
# 1..25 attempts and 1..2,678,000 s (botocore's config-2014-11-12 model; the CloudFormation
# schema in cfn-lint gives no range), defaults from
# https://docs.aws.amazon.com/config/latest/APIReference/API_RemediationConfiguration.html, read
# 2026-12-02.
MAXIMUM_AUTOMATIC_ATTEMPTS = 5
RETRY_ATTEMPT_SECONDS = 60
# AWS's sample packs with remediation run at most 10% of the resources at once and stop at 10%
# errors (awslabs/aws-config-rules, aws-config-conformance-packs/*-with-Remediation.yaml); the
# API allows 1..100 for both.
CONCURRENT_EXECUTION_RATE_PERCENTAGE = 10
ERROR_PERCENTAGE = 10
APPROVAL_TOPIC = "AutomationApprovalTopic"
APPROVAL_SUBSCRIPTION = "AutomationApprovalSubscription"


def ssm_rules(stack: Stack) -> tuple[tuple[SsmChoice, RuleChoice], ...]:
    """Each deployed Config rule of an ssm-engine rule, with its choice (a framework may deploy
    one identifier under two names: each is its own Config rule and remediation)."""
    by_identifier = {choice.identifier: choice for choice in plan(stack.settings)}
    return tuple(
        (by_identifier[rule.identifier], rule)
        for rule in stack.settings.enabled_rules
        if rule.identifier in by_identifier
    )


def role_id(family: str) -> str:
    return f"{family.capitalize()}AutomationRole"


def wrapper_id(document: str) -> str:
    """`AWS-DisableS3BucketPublicReadWrite` -> `ApprovalAWSDisableS3BucketPublicReadWrite`."""
    return "Approval" + "".join(part for part in document.split("-") if part.isalnum())


def add_remediation_configs(stack: Stack) -> None:
    """After the rules, key and (in a single stack) topic; before the functions."""
    choices = plan(stack.settings)
    if not choices:
        return
    _ensure_conditions(stack, IN_REMEDIATION_REGION, REMEDIATION_ON)
    wrapped = sorted({c.document for c in choices if c.approval})
    if wrapped:
        _add_approval_topic(stack)
    for family in families(choices):
        add_role(stack, family, choices, wrapped)
    for document in wrapped:
        _add_wrapper(stack, next(c for c in choices if c.document == document))
    for choice, rule in ssm_rules(stack):
        stack.add(_configuration(stack, choice, rule))


def _add_approval_topic(stack: Stack) -> None:
    # aws:approve notifies only a topic whose name starts with "Automation"
    # (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-approve.html,
    # read 2026-12-02).
    stack.add(
        troposphere_sns.Topic(
            APPROVAL_TOPIC,
            TopicName=Sub("Automation-${AWS::StackName}-approvals"),
            DisplayName="Remediation approvals",
            KmsMasterKeyId=GetAtt(stack.id("key"), "Arn"),
        ),
        role="approval-topic",
    )


def add_role(stack: Stack, family: str, choices: tuple[SsmChoice, ...], wrapped: list) -> None:
    mine = [c for c in choices if c.family == family]
    role = stack.add(
        iam.Role(
            role_id(family),
            Description=Sub(f"Runs the {family} remediation runbooks of ${{AWS::StackName}}"),
            AssumeRolePolicyDocument=policies.automation_assume_role(),
        )
    )
    actions = sorted({a for c in mine for a in c.remediation.document.permissions})
    policy = iam.ManagedPolicy(
        f"{role_id(family)}ManagedPolicy",
        Description=Sub(f"What the {family} remediation runbooks of ${{AWS::StackName}} do"),
        PolicyDocument=policies.automation_policy(actions),
        Roles=[role.ref()],
    )
    skips = _family_policy_skips(actions)
    if skips:
        policy.Metadata = skips
    stack.add(policy)
    documents = sorted({c.document for c in mine if c.document in wrapped})
    if documents:
        stack.add(
            iam.ManagedPolicy(
                f"{role_id(family)}ApprovalManagedPolicy",
                Description=Sub(
                    f"What the {family} approval runbooks of ${{AWS::StackName}} do around the "
                    "AWS-owned ones"
                ),
                PolicyDocument=policies.approval_wrapper_policy(
                    documents,
                    GetAtt(role, "Arn"),
                    Ref(stack.id("approval-topic")),
                    GetAtt(stack.id("key"), "Arn"),
                ),
                Roles=[role.ref()],
                Metadata=parliament_skips(
                    [
                        (
                            "PERMISSIONS_MANAGEMENT_ACTIONS",
                            "iam:PassRole on this role only, and only to Systems Manager "
                            "(iam:PassedToService): aws:executeAutomation runs the AWS-owned "
                            "runbook as the same role after approval, which needs the role "
                            "passed.",
                        )
                    ]
                ),
            )
        )


def _family_policy_skips(actions: list[str]) -> dict:
    """The parliament findings a family's runbooks bring, each with its reason."""
    skips = []
    managing = sorted(set(actions) & policies.PERMISSIONS_MANAGEMENT_ACTIONS)
    if managing:
        skips.append(
            (
                "PERMISSIONS_MANAGEMENT_ACTIONS",
                f"The runbooks' reference pages require {', '.join(managing)}, which IAM classes "
                "as permissions management (they set a resource's access policy or public "
                "access block, to close it). Only Systems Manager Automation of this account and "
                "region can assume the role, and only the runbooks Config runs use it.",
            )
        )
    rewriting = sorted(set(actions) & policies.RESOURCE_POLICY_ACTIONS)
    if rewriting:
        skips.append(
            (
                "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
                f"{', '.join(rewriting)} is what the runbook that removes a bucket policy's "
                "public grants needs; the role is assumable only by Systems Manager Automation "
                "of this account, so no person can use it to grant themselves object access.",
            )
        )
    return parliament_skips(skips) if skips else {}


def parliament_skips(skips: list[tuple[str, str]]) -> dict:
    """Parliament skips (finding id, reason) as scripts/scan.py reads them from Metadata; the
    reasons are in docs/security.md."""
    return {"parliament": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}


def _filled(document: SsmDocument, stack: Stack) -> list[str]:
    """The document parameters some remediation of this stack fills, in the document's order."""
    used = {
        name
        for choice in plan(stack.settings)
        if choice.document == document.name
        for name in choice.remediation.fills
    }
    return [name for name in document.parameters if name in used]


def _in_partition(approver: str) -> object:
    """An approver ARN written for the aws partition names the stack's partition (lint W9007)."""
    if approver.startswith("arn:aws:"):
        return Sub("arn:${AWS::Partition}:" + approver.removeprefix("arn:aws:"))
    return approver


def _add_wrapper(stack: Stack, choice: SsmChoice) -> None:
    document = choice.remediation.document
    approval = stack.settings.remediation_approval
    assert approval is not None, "settings refuse a disruptive ssm engine without approvers"
    assume = document.assume_role_parameter
    names = _filled(document, stack)
    content = {
        "schemaVersion": "0.3",
        "description": f"Asks for approval, then runs {document.name}: {document.effect}",
        "assumeRole": "{{ " + assume + " }}",
        "parameters": {
            assume: {"type": "String", "description": "The role the runbooks run as"},
            **{name: {"type": document.parameters[name].type} for name in names},
        },
        "mainSteps": [
            {
                "name": "Approve",
                "action": "aws:approve",
                "timeoutSeconds": approval.timeout_hours * 3600,
                "onFailure": "Abort",
                "inputs": {
                    "NotificationArn": Ref(stack.id("approval-topic")),
                    "Message": f"Approve {document.name} ({document.disruption})",
                    "MinRequiredApprovals": approval.min_approvals,
                    "Approvers": [_in_partition(approver) for approver in approval.approvers],
                },
            },
            {
                "name": "Remediate",
                "action": "aws:executeAutomation",
                "isEnd": True,
                "inputs": {
                    "DocumentName": document.name,
                    "RuntimeParameters": {name: "{{ " + name + " }}" for name in (assume, *names)},
                },
            },
        ],
    }
    stack.add(
        troposphere_ssm.Document(
            wrapper_id(document.name),
            DocumentType="Automation",
            DocumentFormat="JSON",
            Content=content,
            # A new version on change: replacing it would delete the document the remediation
            # configurations name while they still name it.
            UpdateMethod="NewVersion",
        )
    )


def _ensure_conditions(stack: Stack, *names: str) -> None:
    """Only the conditions something uses (cfn-lint W8001): a member stack has none of these."""
    add_conditions(
        stack.template, *(name for name in names if name not in stack.template.conditions)
    )


def remediation_parameter_spec(name: str) -> ParameterSpec:
    """The spec of a parameter a remediation's value comes from: a base parameter (such as
    S3RemediationEncryption), a rule's deploy parameter, or one only remediations take."""
    catalog = (p.deploy_parameter for r in CATALOG for p in r.parameters if p.deploy_parameter)
    for spec in (*BASE_PARAMETERS, *REMEDIATION_PARAMETERS, *catalog):
        if spec.name == name:
            return spec
    raise ValueError(f"remediations.json: stack parameter {name} is not a known parameter")


def _ensure_parameter(stack: Stack, name: str) -> None:
    """A value from a stack parameter: the template has it, or gets it (a member stack has
    none of the remediation parameters of its own)."""
    if name in stack.template.parameters:
        return
    spec = remediation_parameter_spec(name)
    add_parameter(stack.template, spec, stack.settings.parameter_defaults.get(name, spec.default))


def _parameter_value(kind: FillKind, values: tuple[str, ...], stack_parameter: str) -> dict:
    if kind is FillKind.RESOURCE_ID:
        return {"ResourceValue": {"Value": RESOURCE_ID}}
    if kind is FillKind.STATIC:
        return {"StaticValue": {"Values": list(values)}}
    return {"StaticValue": {"Values": [Ref(stack_parameter)]}}


def configuration_condition(stack: Stack, rule: RuleChoice) -> str:
    """RemediationMode not off, and the rule's own condition where it has one."""
    own = rule_condition(rule)
    if own is None:
        return REMEDIATION_ON
    name = f"{rule.stem}RemediationDeployed"
    if name not in stack.template.conditions:
        stack.template.add_condition(name, And(Condition(own), Condition(REMEDIATION_ON)))
    return name


def _configuration(
    stack: Stack, choice: SsmChoice, rule: RuleChoice
) -> config.RemediationConfiguration:
    for name in choice.remediation.stack_parameters:
        _ensure_parameter(stack, name)
    document = choice.remediation.document
    # Rules with exemptions stay manual: processing starts them for non-exempt resources.
    automatic = choice.starter is Starter.CONFIG
    if automatic:
        _ensure_conditions(stack, ENFORCE_REMEDIATION)
    return remediation_configuration(
        choice,
        rule,
        # Ref of a Config rule is its name.
        rule_name=Ref(rule.logical_id),
        role_arn=GetAtt(role_id(choice.family), "Arn"),
        automatic=If(ENFORCE_REMEDIATION, True, False) if automatic else False,
        target=Ref(wrapper_id(document.name)) if choice.approval else document.name,
        Condition=configuration_condition(stack, rule),
    )


def remediation_configuration(
    choice: SsmChoice,
    rule: RuleChoice,
    rule_name: object,
    role_arn: object,
    automatic: object,
    target: object = None,
    **attributes: object,
) -> config.RemediationConfiguration:
    """The configuration as the stacks and conformance pack bodies both declare it."""
    document = choice.remediation.document
    parameters = {
        name: _parameter_value(fill.kind, fill.values, fill.stack_parameter)
        for name, fill in choice.remediation.fills.items()
    }
    parameters[document.assume_role_parameter] = {"StaticValue": {"Values": [role_arn]}}
    return config.RemediationConfiguration(
        f"{rule.stem}Remediation",
        ConfigRuleName=rule_name,
        TargetType="SSM_DOCUMENT",
        TargetId=target or document.name,
        ResourceType=choice.remediation.resource_type,
        Parameters=dict(sorted(parameters.items())),
        Automatic=automatic,
        MaximumAutomaticAttempts=MAXIMUM_AUTOMATIC_ATTEMPTS,
        RetryAttemptSeconds=RETRY_ATTEMPT_SECONDS,
        ExecutionControls=config.ExecutionControls(
            SsmControls=config.SsmControls(
                ConcurrentExecutionRatePercentage=CONCURRENT_EXECUTION_RATE_PERCENTAGE,
                ErrorPercentage=ERROR_PERCENTAGE,
            )
        ),
        **attributes,
    )


def ssm_remediation_variable(stack: Stack) -> object:
    """SSM_REMEDIATION for processing: {"<IDENTIFIER>": "config" | "processing"}, each entry only
    where its rule is deployed."""
    pairs = ssm_rules(stack)
    if not pairs:
        return "{}"
    first: dict[str, tuple[SsmChoice, RuleChoice]] = {}
    for choice, rule in pairs:
        first.setdefault(choice.identifier, (choice, rule))
    starters = {rule.slug: choice.starter.value for choice, rule in first.values()}
    rules = tuple(rule for _, rule in first.values())
    # Where no remediation configuration can exist, processing is told of no ssm rule.
    return If(
        IN_REMEDIATION_REGION,
        json_of_available(
            rules,
            "{}",
            lambda rule: f"{json.dumps(rule.identifier)}:{json.dumps(starters[rule.slug])}",
        ),
        "{}",
    )


def add_approval_subscription(stack: Stack) -> None:
    """After the functions: processing republishes approval requests on the notification topic.
    Without a dead-letter queue SNS would drop a request Lambda could not take."""
    if "approval-topic" not in stack.ids:
        return
    topic = Ref(stack.id("approval-topic"))
    function = GetAtt(stack.id("processing-function"), "Arn")
    stack.add(
        awslambda.Permission(
            "ProcessingApprovalPermission",
            Action="lambda:InvokeFunction",
            FunctionName=function,
            Principal="sns.amazonaws.com",
            SourceArn=topic,
        )
    )
    stack.add(
        troposphere_sns.SubscriptionResource(
            APPROVAL_SUBSCRIPTION,
            TopicArn=topic,
            Protocol="lambda",
            Endpoint=function,
            RedrivePolicy=redrive_queue(stack, APPROVAL_SUBSCRIPTION, None, topic),
            DependsOn=["ProcessingApprovalPermission"],
        )
    )
