"""One test per AWS fact the design document got wrong, asserted on the generated templates.

Each test names the failure it guards against (see README, "What the original design got
wrong"); together they make sure none of those mistakes can reach a deploy again.
"""

from __future__ import annotations

import json

from template_helpers import resources_of, statements, substitute

from compliance_template.generator.catalog import BY_IDENTIFIER, KNOWN_INVALID_IDENTIFIERS, Trigger


# Failures 1 and 2: one recorder and one delivery channel per account and region.
def test_recorder_and_channel_exist_only_behind_the_opt_in_condition(any_template):
    for kind in ("AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel"):
        found = resources_of(any_template, kind)
        assert found, kind
        for name, resource in found.items():
            assert resource.get("Condition") == "RecorderRequested", name
    assert any_template["Parameters"]["CreateConfigRecorder"]["Default"] == "false"
    assert any_template["Conditions"]["RecorderRequested"] == {
        "Fn::Equals": [{"Ref": "CreateConfigRecorder"}, "true"]
    }


def test_rules_wait_for_a_recorder_the_stack_creates(any_template):
    # DependsOn cannot be conditional; a Ref inside Fn::If in Metadata orders the resources.
    for name, rule in resources_of(any_template, "AWS::Config::ConfigRule").items():
        assert rule["Metadata"]["WaitsFor"] == {
            "Recorder": {"Fn::If": ["RecorderRequested", {"Ref": "ConfigRecorder"}, ""]},
            "DeliveryChannel": {
                "Fn::If": ["RecorderRequested", {"Ref": "ConfigDeliveryChannel"}, ""]
            },
        }, name
        assert "DependsOn" not in rule, name


def test_delivery_channel_does_not_depend_on_recorder(any_template):
    # A DependsOn between them deadlocks the recorder's start (it waits for the channel).
    channel = any_template["Resources"]["ConfigDeliveryChannel"]
    recorder = any_template["Resources"]["ConfigRecorder"]
    # Each waits only for the delivery policy, never for the other.
    assert channel["DependsOn"] == recorder["DependsOn"] == ["ConfigRecorderDeliveryPolicy"]


# Failure 3: made-up managed rule identifiers.
def test_rule_identifiers_come_from_the_catalog(any_template):
    for name, rule in resources_of(any_template, "AWS::Config::ConfigRule").items():
        source = rule["Properties"]["Source"]
        assert source["Owner"] == "AWS"
        identifier = source["SourceIdentifier"]
        assert identifier in BY_IDENTIFIER, name
        assert identifier not in KNOWN_INVALID_IDENTIFIERS
        assert name == BY_IDENTIFIER[identifier].logical_id


def test_default_stack_has_the_four_seed_rules(default_template):
    identifiers = sorted(
        r["Properties"]["Source"]["SourceIdentifier"]
        for r in resources_of(default_template, "AWS::Config::ConfigRule").values()
    )
    assert identifiers == [
        "DB_INSTANCE_BACKUP_ENABLED",
        "DESIRED_INSTANCE_TYPE",
        "ENCRYPTED_VOLUMES",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    ]


def test_rule_parameters_are_wired_to_cloudformation_parameters(default_template):
    rules = default_template["Resources"]
    assert rules["DesiredInstanceTypeRule"]["Properties"]["InputParameters"] == {
        "instanceType": {"Ref": "AllowedInstanceTypes"}
    }
    assert rules["DbInstanceBackupEnabledRule"]["Properties"]["InputParameters"] == {
        "backupRetentionMinimum": {"Ref": "BackupRetentionMinimum"}
    }
    backup = default_template["Parameters"]["BackupRetentionMinimum"]
    assert (backup["Type"], backup["MinValue"], backup["MaxValue"]) == ("Number", 1, 35)


# Failure 8: MaximumExecutionFrequency on change-triggered rules (and Scope on periodic ones).
def test_trigger_properties_match_the_catalog(any_template):
    for rule in resources_of(any_template, "AWS::Config::ConfigRule").values():
        properties = rule["Properties"]
        entry = BY_IDENTIFIER[properties["Source"]["SourceIdentifier"]]
        if entry.deploy_trigger is Trigger.CHANGE:
            assert "MaximumExecutionFrequency" not in properties, entry.identifier
            assert properties["Scope"] == {"ComplianceResourceTypes": list(entry.resource_types)}
        else:
            assert "Scope" not in properties, entry.identifier
            assert properties["MaximumExecutionFrequency"] == {"Ref": "PeriodicRuleFrequency"}


def test_input_parameter_values_are_strings(all_rules_template):
    for rule in resources_of(all_rules_template, "AWS::Config::ConfigRule").values():
        for value in rule["Properties"].get("InputParameters", {}).values():
            assert isinstance(value, str) or set(value) == {"Ref"}


# Failure 4: the key policy must let CloudWatch Logs use the key, and keep root administration.
def test_key_policy_keeps_account_administration(any_template):
    key = any_template["Resources"]["ComplianceKey"]
    admin = statements(key["Properties"]["KeyPolicy"])["AccountAdministersKey"]
    assert admin["Effect"] == "Allow"
    assert admin["Principal"] == {
        "AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}]
    }
    assert admin["Action"] == ["kms:*"]
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_key_policy_lets_cloudwatch_logs_encrypt_our_log_groups(any_template):
    policy = any_template["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    logs = statements(policy)["CloudWatchLogsEncryptsLogGroups"]
    assert logs["Principal"] == {"Service": [{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]}
    assert sorted(logs["Action"]) == sorted(
        ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    )
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
            }
        }
    }


def test_key_policy_lets_alarms_and_eventbridge_use_the_encrypted_topic_and_queue(any_template):
    policy = any_template["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    alarms = statements(policy)["AlarmsPublishToEncryptedTopic"]
    assert alarms["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    events = statements(policy)["EventBridgeWritesEncryptedDeadLetters"]
    assert events["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # EventBridge's KMS requests carry no aws:SourceAccount/SourceArn: a condition would drop
    # every dead letter.
    assert "Condition" not in events


def test_key_policy_grants_function_roles_only_data_keys_through_our_services(any_template):
    policy = any_template["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    functions = statements(policy)["FunctionsUseKeyThroughStorageAndMessaging"]
    assert functions["Principal"]["AWS"] == [
        {"Fn::GetAtt": [f"{name}Role", "Arn"]}
        for name in ("Processing", "Reporting", "Remediation")
    ]
    assert sorted(functions["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    via = functions["Condition"]["StringEquals"]["kms:ViaService"]
    assert [substitute(v["Fn::Sub"], "r") for v in via] == [
        "s3.r.amazonaws.com",
        "sns.r.amazonaws.com",
        "sqs.r.amazonaws.com",
    ]


def test_log_groups_are_encrypted_with_the_key_arn(any_template):
    groups = resources_of(any_template, "AWS::Logs::LogGroup")
    assert sorted(groups) == ["ProcessingLogGroup", "RemediationLogGroup", "ReportingLogGroup"]
    for group in groups.values():
        # Ref to a key gives its id; CloudWatch Logs wants the ARN.
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    functions = resources_of(any_template, "AWS::Lambda::Function")
    for name, function in functions.items():
        log_group = name.replace("Function", "LogGroup")
        assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": log_group}}


# Failure 5: the Config role's managed policy ARN.
def test_config_role_uses_aws_config_role_in_any_partition(any_template):
    role = any_template["Resources"]["ConfigRecorderRole"]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"}
    ]
    recorder = any_template["Resources"]["ConfigRecorder"]["Properties"]
    assert recorder["RoleARN"] == {"Fn::GetAtt": ["ConfigRecorderRole", "Arn"]}


def test_no_hard_coded_partition(any_template):
    assert "arn:aws:" not in json.dumps(any_template)


# Failure 6: dashboard metric lines.
def test_dashboard_metric_lines_are_strings_then_one_options_object(any_template):
    dashboard = any_template["Resources"]["ComplianceDashboard"]["Properties"]
    body = json.loads(substitute(dashboard["DashboardBody"]["Fn::Sub"]))
    lines = [line for w in body["widgets"] for line in w["properties"]["metrics"]]
    assert len(lines) >= 12
    for line in lines:
        *fields, last = line
        if isinstance(last, dict):
            # "expression": a metric math or SEARCH line, which is that one object alone.
            allowed = {"label", "stat", "period", "color", "yAxis", "visible", "id", "expression"}
            assert set(last) <= allowed
            if "expression" in last:
                assert not fields, line
                continue
        else:
            fields.append(last)
        assert all(isinstance(field, str) for field in fields), line
        # namespace, metric name, then dimension name/value pairs
        assert len(fields) >= 2 and len(fields) % 2 == 0, line


def test_dashboard_shows_function_health_and_each_rule(any_template):
    dashboard = any_template["Resources"]["ComplianceDashboard"]["Properties"]
    body = json.loads(dashboard["DashboardBody"]["Fn::Sub"])
    metrics = [
        line
        for w in body["widgets"]
        for line in w["properties"]["metrics"]
        if isinstance(line[0], str)  # not a SEARCH expression
    ]
    lambda_metrics = {(line[1], line[3]) for line in metrics if line[0] == "AWS/Lambda"}
    for metric in ("Invocations", "Errors", "Duration", "Throttles"):
        for function in ("Processing", "Reporting", "Remediation"):
            assert (metric, f"${{{function}Function}}") in lambda_metrics
    rules = resources_of(any_template, "AWS::Config::ConfigRule").values()
    noncompliant = {line[3] for line in metrics if line[1] == "NonCompliantResources"}
    assert noncompliant == {r["Properties"]["ConfigRuleName"]["Fn::Sub"] for r in rules}


# Failure 7: Lambda code must be runnable as packaged.
def test_function_code_folders_contain_the_handler_module(any_template):
    from template_helpers import TEMPLATES

    for name, function in resources_of(any_template, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        folder = (TEMPLATES / properties["Code"]).resolve()
        module = properties["Handler"].rsplit(".", 1)[0].replace(".", "/")
        assert (folder / f"{module}.py").is_file(), name
        assert not list(folder.rglob("*.ts")), name


def test_runtime_is_current_per_cfn_lint_lifecycle_data(any_template):
    import datetime
    from importlib.resources import files

    lifecycle = json.loads(
        files("cfnlint").joinpath("data/AdditionalSpecs/LmbdRuntimeLifecycle.json").read_text()
    )
    today = datetime.date.today().isoformat()
    for function in resources_of(any_template, "AWS::Lambda::Function").values():
        runtime = function["Properties"]["Runtime"]
        assert runtime.startswith("python3.")
        assert int(runtime.split(".")[1]) >= 12
        assert lifecycle[runtime]["deprecated"] > today, runtime


# Failure 10 (the design's "class name typo"): the CloudFormation aggregation types.
def test_aggregation_uses_the_cloudformation_types(any_template):
    auth = resources_of(any_template, "AWS::Config::AggregationAuthorization")
    assert list(auth) == ["AggregationAuthorization"]
    assert auth["AggregationAuthorization"]["Condition"] == "HasAggregatorAccount"
    aggregator = any_template["Resources"]["AccountAggregator"]
    assert aggregator["Type"] == "AWS::Config::ConfigurationAggregator"
    assert aggregator["Properties"]["AccountAggregationSources"] == [
        {"AccountIds": [{"Ref": "AWS::AccountId"}], "AllAwsRegions": True}
    ]
    assert "AggregatorAccountAndRegionTogether" in any_template["Rules"]


# SNS: retry policies only where they mean something.
def test_delivery_policy_only_on_https_subscription(any_template):
    subscriptions = resources_of(any_template, "AWS::SNS::Subscription")
    assert sorted(subscriptions) == ["EmailSubscription", "HttpsSubscription"]
    email, https = subscriptions["EmailSubscription"], subscriptions["HttpsSubscription"]
    assert email["Condition"] == "HasNotificationEmail"
    assert "DeliveryPolicy" not in email["Properties"]
    assert https["Properties"]["Protocol"] == "https"
    retry = https["Properties"]["DeliveryPolicy"]["healthyRetryPolicy"]
    phases = retry["numNoDelayRetries"] + retry["numMinDelayRetries"] + retry["numMaxDelayRetries"]
    assert phases <= retry["numRetries"] <= 100
    # SNS caps the total retry time of a policy at 3600 s.
    assert retry["numRetries"] * retry["maxDelayTarget"] <= 3600


def test_topic_is_encrypted_and_only_our_publishers_may_publish(any_template):
    topic = any_template["Resources"]["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
    policy = any_template["Resources"]["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    principals = [p for s in allows for p in s["Principal"].get("AWS", [])]
    assert principals == [
        {"Fn::GetAtt": [f"{n}Role", "Arn"]} for n in ("Processing", "Reporting", "Remediation")
    ]
    services = [p for s in allows for p in s["Principal"].get("Service", [])]
    assert services == ["cloudwatch.amazonaws.com"]
    alarms = statements(policy)["AlarmsPublish"]["Condition"]
    assert "aws:SourceAccount" in alarms["StringEquals"]


# The reports bucket.
def test_reports_bucket_is_locked_down_and_retained(any_template):
    bucket = any_template["Resources"]["ReportsBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    properties = bucket["Properties"]
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"] == {
        "KMSMasterKeyID": {"Fn::GetAtt": ["ComplianceKey", "Arn"]},
        "SSEAlgorithm": "aws:kms",
    }
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    lifecycle = properties["LifecycleConfiguration"]["Rules"][0]
    assert lifecycle["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    assert lifecycle["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "ReportRetentionDays"}
    }


def test_report_retention_defaults_to_30_days(default_template):
    assert default_template["Parameters"]["ReportRetentionDays"]["Default"] == "30"


def test_bucket_policy_denies_plain_http_and_other_encryption(any_template):
    policy = any_template["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    by_sid = statements(policy)
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    # Denies only when the header is present: a negated or ...IfExists operator alone is true
    # for an absent key, and would refuse the uploads that rely on default encryption.
    assert by_sid["DenyOtherEncryption"]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    assert by_sid["DenyOtherKmsKey"]["Condition"]["Null"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "false"
    }
    assert by_sid["DenyKmsWithoutOurKey"]["Condition"] == {
        "Null": {
            "s3:x-amz-server-side-encryption": "false",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
        }
    }
    assert "DenyCustomerProvidedKeys" in by_sid
    assert "IfExists" not in json.dumps(policy)
    assert all(s["Effect"] == "Deny" for s in by_sid.values())


# Functions, triggers and least privilege.
def test_functions_have_dead_letter_queue_concurrency_and_timeouts(any_template):
    queue = any_template["Resources"]["DeadLetterQueue"]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
    for name, function in resources_of(any_template, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["DeadLetterConfig"] == {
            "TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
        }
        assert properties["ReservedConcurrentExecutions"]["Fn::If"][0] == "ReserveConcurrency"
        assert 1 <= properties["Timeout"] <= 900, name
    configs = resources_of(any_template, "AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 3


def test_event_rule_matches_our_rules_compliance_changes(any_template):
    rule = any_template["Resources"]["ComplianceChangeRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.config"]
    assert pattern["detail-type"] == ["Config Rules Compliance Change"]
    config_rules = resources_of(any_template, "AWS::Config::ConfigRule").values()
    (match,) = pattern["detail"]["configRuleName"]
    prefix = match["prefix"]["Fn::Sub"]
    assert prefix == "${RuleNamePrefix}-"
    assert all(
        r["Properties"]["ConfigRuleName"]["Fn::Sub"].startswith(prefix) for r in config_rules
    )
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ProcessingFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def test_report_schedule_defaults_to_daily(any_template):
    schedule = any_template["Resources"]["ReportScheduleRule"]["Properties"]
    assert schedule["ScheduleExpression"] == {"Ref": "ReportSchedule"}
    assert any_template["Parameters"]["ReportSchedule"]["Default"] == "rate(1 day)"


def test_lambda_permissions_are_scoped_to_their_event_rule(any_template):
    permissions = resources_of(any_template, "AWS::Lambda::Permission")
    assert len(permissions) == 2
    for name, permission in permissions.items():
        properties = permission["Properties"]
        rule = name.removesuffix("Permission")
        assert properties["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}
        assert properties["SourceAccount"] == {"Ref": "AWS::AccountId"}
        assert properties["Principal"] == "events.amazonaws.com"


def test_remediation_write_permissions_exist_only_in_enforce_mode(any_template):
    writes = any_template["Resources"]["RemediationEnforceManagedPolicy"]
    assert writes["Condition"] == "EnforceRemediation"
    assert any_template["Parameters"]["RemediationMode"]["Default"] == "dry-run"
    read = any_template["Resources"]["RemediationManagedPolicy"]["Properties"]["PolicyDocument"]
    by_sid = statements(read)
    read_actions = by_sid["ReadBucketState"]["Action"] + by_sid["ReadComputeState"]["Action"]
    assert all(a.split(":")[1].startswith(("Get", "Describe", "List")) for a in read_actions)
    assert "ec2:StopInstances" not in json.dumps(any_template)
    tagging = statements(writes["Properties"]["PolicyDocument"])["FlagInstances"]
    assert tagging["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["compliance:finding"]}
    }


def test_function_policies_are_scoped_to_their_own_prefix(any_template):
    prefixes = {
        "Processing": "compliance-changes",
        "Reporting": "reports",
        "Remediation": "remediation",
    }
    for name, prefix in prefixes.items():
        policy = any_template["Resources"][f"{name}ManagedPolicy"]["Properties"]["PolicyDocument"]
        objects = statements(policy)["ReadWriteOwnPrefix"]["Resource"]
        assert objects == [
            {
                "Fn::Sub": [
                    f"${{Bucket}}/{prefix}/*",
                    {"Bucket": {"Fn::GetAtt": ["ReportsBucket", "Arn"]}},
                ]
            }
        ]
        assert "*" not in [
            r for s in policy["Statement"] if s["Sid"] == "Notify" for r in s["Resource"]
        ]


def test_outputs_cover_what_users_and_other_stacks_need(any_template):
    outputs = any_template["Outputs"]
    for name in (
        "ReportsBucketName",
        "NotificationTopicArn",
        "KeyArn",
        "ProcessingFunctionArn",
        "ReportingFunctionArn",
        "RemediationFunctionArn",
        "DashboardUrl",
        "ConfigRuleNames",
        "AggregatorName",
        "DeadLetterQueueUrl",
    ):
        assert name in outputs, name
        assert outputs[name]["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}


def test_every_ignored_lint_check_has_a_reason(any_template):
    for name, resource in any_template["Resources"].items():
        ignored = resource.get("Metadata", {}).get("cfn-lint", {}).get("config", {})
        for check in ignored.get("ignore_checks", []):
            reason = resource["Metadata"]["Suppressions"]["cfn-lint"][check]
            assert len(reason) > 40, (name, check)
