"""The three Lambda functions, their roles, log groups and the dead-letter queue.

Roles come first (`add_function_roles`) because the key policy names them; everything else
(`add_functions`) comes after the key, bucket, topic, rules and aggregator it refers to.
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import dataclass

from troposphere import (
    AWSHelperFn,
    GetAtt,
    If,
    Join,
    NoValue,
    Ref,
    Sub,
    awslambda,
    iam,
    logs,
    sqs,
)

from . import exemptions, policies
from .chat import chat_notifications_variable
from .conditions import (
    ENFORCE_REMEDIATION,
    HAS_CHAT,
    OPEN_OPS_ITEMS,
    REPORT_ACROSS_REGIONS,
    RESERVE_CONCURRENCY,
    SECURITY_HUB_IMPORT,
    SECURITY_HUB_ON,
)
from .naming import (
    CHANGES_PREFIX,
    METRICS_NAMESPACE,
    REMEDIATION_PREFIX,
    REPORTS_PREFIX,
    arn,
    function_logical_id,
    logical,
)
from .regions import json_of_available, only_where_available
from .remediation_configs import ssm_remediation_variable, ssm_rules
from .remediation_rules import declared_grants
from .selection import RuleChoice
from .stack import Stack
from .suppressions import cfn_lint_metadata

# Lambda runtime: current and not deprecated (cfn-lint's runtime lifecycle data; a test checks).
RUNTIME = "python3.13"
HANDLER = "app.handler"
# Lambda retries a failed asynchronous invocation this often before the dead-letter queue.
ASYNC_RETRIES = 2
MAX_EVENT_AGE_SECONDS = 6 * 3600
OPS_ITEMS_PARAMETER = "CreateOpsItems"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    prefix: str
    timeout: int
    memory: int
    reserved: int | AWSHelperFn


_SPECS = (
    FunctionSpec(
        "processing",
        "Records every compliance change, notifies, and hands fixes to remediation",
        CHANGES_PREFIX,
        timeout=60,
        memory=256,
        reserved=Ref("ReservedConcurrency"),
    ),
    FunctionSpec(
        "reporting",
        "Writes the scheduled compliance report and publishes its summary",
        REPORTS_PREFIX,
        timeout=900,
        memory=1024,
        reserved=1,
    ),
    # Low concurrency on purpose: a burst of findings is fixed a few at a time.
    FunctionSpec(
        "remediation",
        "Decides and, in enforce mode, applies safe automatic fixes",
        REMEDIATION_PREFIX,
        timeout=120,
        memory=256,
        reserved=2,
    ),
)
# By function name; a test checks that there is one spec for each of naming.FUNCTION_NAMES.
SPECS = {spec.name: spec for spec in _SPECS}


def add_function_roles(stack: Stack) -> None:
    for name in stack.functions:
        stack.add(
            iam.Role(
                f"{logical(name)}Role",
                Description=Sub(f"Runs the {name} function of ${{AWS::StackName}}"),
                AssumeRolePolicyDocument=policies.assume_role("lambda"),
            ),
            role=f"{name}-role",
        )


def add_functions(stack: Stack) -> None:
    key_arn = GetAtt(stack.id("key"), "Arn")
    queue = stack.add(
        sqs.Queue(
            "DeadLetterQueue",
            KmsMasterKeyId=key_arn,
            # The maximum: time to notice the alarm, find the cause and redrive.
            MessageRetentionPeriod=14 * 24 * 3600,
            # Dead letters are copies of events for a redrive, not records: the bucket keeps those.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        ),
        role="queue",
    )
    for name in stack.functions:
        stack.add(
            logs.LogGroup(
                f"{logical(name)}LogGroup",
                LogGroupName=Sub(f"/compliance/${{AWS::StackName}}/{name}"),
                KmsKeyId=key_arn,
                RetentionInDays=Ref("LogRetentionDays"),
                # Named log groups: a retained one would block re-creating the stack's name.
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
            ),
            role=f"{name}-logs",
        )
    # Remediation first: processing's policy and environment refer to it.
    for name in sorted(stack.functions, key=lambda name: name != "remediation"):
        _add_function(stack, SPECS[name], _policy(stack, name), _environment(stack, name))
    stack.output("DeadLetterQueueUrl", "Queue of events that failed all retries", queue.ref())


def _policy(stack: Stack, name: str) -> iam.ManagedPolicy:
    spec = SPECS[name]
    basics = (
        GetAtt(stack.id(f"{name}-logs"), "Arn"),
        GetAtt(stack.id("queue"), "Arn"),
        stack.topic_arn,
        stack.bucket_arn,
        spec.prefix,
    )
    role = [Ref(stack.id(f"{name}-role"))]
    parameters = exemptions.parameter_arns(stack)
    if name == "processing":
        document = policies.processing_policy(
            *basics,
            _remediation_arn(stack),
            stack.remote_key_arn,
            parameters,
            digest=bool(stack.settings.digest),
            exempt_rule_arns=_rule_arns(
                stack, {i for e in stack.settings.exemptions for i in e.rules}
            ),
        )
        _add_ssm_remediation_policy(stack, role)
        if OPS_ITEMS_PARAMETER in stack.template.parameters:
            stack.add(
                iam.ManagedPolicy(
                    "ProcessingOpsItemsManagedPolicy",
                    Condition=OPEN_OPS_ITEMS,
                    Description=Sub("OpsItems the processing function of ${AWS::StackName} opens"),
                    PolicyDocument=policies.ops_items_policy(stack.bucket_arn),
                    Roles=role,
                )
            )
    elif name == "reporting":
        document = policies.reporting_policy(
            *basics, _rule_arns(stack), aggregator_arn(stack), parameters
        )
    else:
        rule_grants = declared_grants()
        document = policies.remediation_read_policy(*basics, rule_grants, parameters)
        stack.add(
            iam.ManagedPolicy(
                "RemediationEnforceManagedPolicy",
                Condition=ENFORCE_REMEDIATION,
                Description=Sub("Fixes the remediation function of ${AWS::StackName} applies"),
                PolicyDocument=policies.remediation_write_policy(rule_grants),
                Roles=role,
            )
        )
    _add_security_hub_policies(stack, name, role)
    return stack.add(
        iam.ManagedPolicy(
            f"{logical(name)}ManagedPolicy",
            Description=Sub(f"What the {name} function of ${{AWS::StackName}} may do"),
            PolicyDocument=document,
            Roles=role,
        )
    )


def _add_ssm_remediation_policy(stack: Stack, role: list[Ref]) -> None:
    """Remediation exceptions and executions of the ssm-engine rules (remediation_configs)."""
    if not ssm_rules(stack):
        return
    stack.add(
        iam.ManagedPolicy(
            "ProcessingSsmRemediationManagedPolicy",
            Description=Sub(
                "Remediation exceptions and executions the processing function of "
                "${AWS::StackName} places and starts"
            ),
            PolicyDocument=policies.ssm_remediation_statements(),
            Roles=role,
        )
    )


def _add_security_hub_policies(stack: Stack, name: str, role: list[Ref]) -> None:
    """Only while SecurityHubFindings is not off: processing notes and suppresses findings
    (and, in mode import, imports its own); remediation only notes its decision."""
    if name == "reporting" or SECURITY_HUB_ON not in stack.template.conditions:
        return
    stack.add(
        iam.ManagedPolicy(
            f"{logical(name)}SecurityHubManagedPolicy",
            Condition=SECURITY_HUB_ON,
            Description=Sub(
                f"Security Hub findings the {name} function of ${{AWS::StackName}} annotates"
            ),
            PolicyDocument=policies.security_hub_annotate_policy(
                may_set_workflow=name == "processing"
            ),
            Roles=role,
        )
    )
    if name == "processing":
        stack.add(
            iam.ManagedPolicy(
                "ProcessingSecurityHubImportManagedPolicy",
                Condition=SECURITY_HUB_IMPORT,
                Description=Sub("Findings the processing function of ${AWS::StackName} imports"),
                PolicyDocument=policies.security_hub_import_policy(),
                Roles=role,
            )
        )


# A managed policy holds 6,144 characters: past this many rules, reporting may read the results
# of this account's rules in the region (a Config rule's ARN carries an id, not its name, so no
# pattern narrows it to ours), instead of one ARN per rule.
PER_RULE_GRANTS_MAX = 20


def aggregator_arn(stack: Stack) -> GetAtt:
    return GetAtt(stack.id("aggregator"), "ConfigurationAggregatorArn")


# The resource of a rule statement where none of its rules is deployed: no rule has this ARN.
NO_RULE = "config-rule/none-deployed-here"


def _rule_arns(stack: Stack, identifiers: Set[str] | None = None) -> list[object]:
    """Rules of this template (those of ``identifiers`` only, when given); a central account
    reads the organization's from the aggregator."""
    rules = [
        r
        for r in stack.settings.enabled_rules
        if r.logical_id in stack.template.resources
        and (identifiers is None or r.rule.identifier in identifiers)
    ]
    if len(rules) > PER_RULE_GRANTS_MAX:
        return [arn("config", "config-rule/*")]
    arns = [only_where_available(rule, GetAtt(rule.logical_id, "Arn")) for rule in rules]
    if rules and all(isinstance(value, If) for value in arns):
        # In a region that offers none of them every entry is AWS::NoValue, and IAM refuses a
        # statement with an empty Resource list (the whole stack would fail there). This ARN
        # names no rule (Config's rule ids are config-rule-<id>), so the statement grants
        # nothing where none is deployed.
        arns.append(arn("config", NO_RULE))
    return arns


def _remediation_arn(stack: Stack) -> object:
    """Processing hands fixes to remediation only where the template has it."""
    if "remediation" not in stack.functions:
        return None
    return GetAtt(stack.id("remediation-function"), "Arn")


def _environment(stack: Stack, name: str) -> dict[str, object]:
    rules = stack.settings.enabled_rules
    regional = any(rule.logical_id in stack.template.resources for rule in rules)
    common: dict[str, object] = {
        "REPORTS_BUCKET": stack.bucket_name,
        "TOPIC_ARN": stack.topic_arn,
        # The functions know every rule from the rulebook packaged with them: a rule name
        # <prefix>-<suffix> gives the rule, so nothing here grows with the rule count.
        "RULE_NAME_PREFIX": Ref("RuleNamePrefix"),
        "FRAMEWORKS": ",".join(stack.settings.frameworks),
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
        "RUNBOOK_BASE_URL": Ref("RunbookBaseUrl"),
        "LOG_LEVEL": Ref("LogLevel"),
        # Names of the SSM parameters holding the exemptions, in order; empty: none.
        "EXEMPTIONS_PARAMETERS": exemptions.parameters_variable(stack),
    }
    if name != "reporting" and SECURITY_HUB_ON in stack.template.conditions:
        common["SECURITY_HUB_MODE"] = Ref("SecurityHubFindings")
    if HAS_CHAT in stack.template.conditions:
        # Where a chat channel reads the topic, messages carry its card next to the text.
        common["CHAT_NOTIFICATIONS"] = chat_notifications_variable()
    elif "CentralChatNotifications" in stack.template.parameters:
        # A member publishes to the central topic: the deployer says whether a channel reads it.
        common["CHAT_NOTIFICATIONS"] = Ref("CentralChatNotifications")
    if name == "processing":
        hand_off = _remediation_arn(stack)
        common["REMEDIATION_FUNCTION"] = hand_off or ""
        remediate = _remediated(stack)
        common["REMEDIATE_RULES"] = (
            remediate_variable(remediate, regional) if hand_off and remediate else "[]"
        )
        # Identifiers only; a rule not deployed in a region simply never sends a change there.
        common["DIGEST_RULES"] = json.dumps(sorted(stack.settings.digest))
        # Which ssm-engine rules processing places exceptions for or starts (remediation_configs).
        common["SSM_REMEDIATION"] = ssm_remediation_variable(stack)
        common["REMEDIATION_MODE"] = (
            Ref("RemediationMode") if "RemediationMode" in stack.template.parameters else "off"
        )
        if OPS_ITEMS_PARAMETER in stack.template.parameters:
            # The stack name is the value of the tag the OpsItems policy requires.
            common.update(OPS_ITEMS=Ref(OPS_ITEMS_PARAMETER), STACK_NAME=Ref("AWS::StackName"))
    elif name == "reporting":
        aggregator = Ref(stack.id("aggregator"))
        # A central account always reads the organization aggregator; a single stack only when
        # asked to report across regions.
        across = REPORT_ACROSS_REGIONS in stack.template.conditions
        common["AGGREGATOR_NAME"] = (
            If(REPORT_ACROSS_REGIONS, aggregator, "") if across else aggregator
        )
    else:
        common.update(
            REMEDIATION_MODE=Ref("RemediationMode"),
            EXEMPTION_TAG_KEY=Ref("ExemptionTagKey"),
            S3_SSE_ALGORITHM=Ref("S3RemediationEncryption"),
            EBS_DEFAULT_ENCRYPTION=Ref("EnableEbsEncryptionByDefault"),
        )
        if "BackupRetentionMinimum" in stack.template.parameters:
            common["BACKUP_RETENTION_DAYS"] = Ref("BackupRetentionMinimum")
        # Lets remediation re-check an instance's type before flagging it.
        if "AllowedInstanceTypes" in stack.template.parameters:
            common["ALLOWED_INSTANCE_TYPES"] = Ref("AllowedInstanceTypes")
    return dict(sorted(common.items()))


def _remediated(stack: Stack) -> tuple[RuleChoice, ...]:
    """One deployed instance of each rule handed to remediation (its region condition)."""
    first = {}
    for rule in stack.settings.enabled_rules:
        first.setdefault(rule.identifier, rule)
    return tuple(first[identifier] for identifier in sorted(stack.settings.remediate))


def remediate_variable(rules: tuple[RuleChoice, ...], regional: bool = True) -> Join:
    """JSON list of the identifiers processing hands to remediation, each present only in the
    regions where its rule is deployed."""
    return json_of_available(rules, "[]", lambda rule: json.dumps(rule.identifier), regional)


def _add_function(
    stack: Stack, spec: FunctionSpec, policy: iam.ManagedPolicy, environment: dict[str, object]
) -> None:
    function = awslambda.Function(
        function_logical_id(spec.name),
        Description=spec.description,
        Runtime=RUNTIME,
        Handler=HANDLER,
        # Pure Python: Graviton costs less for the same work.
        Architectures=["arm64"],
        Role=GetAtt(stack.id(f"{spec.name}-role"), "Arn"),
        Timeout=spec.timeout,
        MemorySize=spec.memory,
        ReservedConcurrentExecutions=If(RESERVE_CONCURRENCY, spec.reserved, NoValue),
        DeadLetterConfig=awslambda.DeadLetterConfig(TargetArn=GetAtt(stack.id("queue"), "Arn")),
        Environment=awslambda.Environment(Variables=environment),
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(stack.id(f"{spec.name}-logs"))),
        # The role must be able to log and reach the queue before the first invocation.
        DependsOn=[policy.title],
    )
    code = stack.code_of(spec.name)
    if isinstance(code, str):
        function.Metadata = cfn_lint_metadata(
            W3002="Code is a local folder on purpose: `aws cloudformation package` zips and "
            "uploads it, then rewrites Code to the S3 location."
        )
    # A local path for `aws cloudformation package`, which troposphere's Code type rejects.
    function.properties["Code"] = code
    stack.add(function, role=f"{spec.name}-function")
    stack.add(
        awslambda.EventInvokeConfig(
            f"{logical(spec.name)}InvokeConfig",
            FunctionName=function.ref(),
            Qualifier="$LATEST",
            MaximumRetryAttempts=ASYNC_RETRIES,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_SECONDS,
        )
    )
    stack.output(
        f"{logical(spec.name)}FunctionArn",
        f"ARN of the {spec.name} function",
        GetAtt(function, "Arn"),
    )
