"""Custom cfn-lint rules for the failures this project has met in real deployments.

Load them with ``cfn-lint --append-rules compliance_template.cfn_rules -- TEMPLATE`` (cfn-lint
imports this package and registers every rule class it exposes), or by directory, pointing
``--append-rules`` at this folder (cfn-lint then imports each rule file on its own; the files
import their helpers by absolute name, so this package must be installed either way).
"""

from compliance_template.cfn_rules.condition_name_shadows import ConditionNameShadows
from compliance_template.cfn_rules.config_rule_identifier_invalid import (
    ConfigRuleIdentifierInvalid,
)
from compliance_template.cfn_rules.config_rule_identifier_unknown import (
    ConfigRuleIdentifierUnknown,
)
from compliance_template.cfn_rules.config_rule_input_parameters import ConfigRuleInputParameters
from compliance_template.cfn_rules.config_rule_trigger_settings import ConfigRuleTriggerSettings
from compliance_template.cfn_rules.config_singleton_condition import ConfigSingletonCondition
from compliance_template.cfn_rules.dashboard_metric_lines import DashboardMetricLines
from compliance_template.cfn_rules.hardcoded_partition import HardcodedPartition
from compliance_template.cfn_rules.kms_key_admin_statement import KmsKeyAdminStatement
from compliance_template.cfn_rules.lambda_local_code_handler import LambdaLocalCodeHandler
from compliance_template.cfn_rules.lambda_runtime_lifecycle_gap import LambdaRuntimeLifecycleGap
from compliance_template.cfn_rules.log_group_kms_key import LogGroupKmsKey
from compliance_template.cfn_rules.managed_policy_arn_invalid import ManagedPolicyArnInvalid
from compliance_template.cfn_rules.remediation_configuration import RemediationConfiguration
from compliance_template.cfn_rules.remediation_configuration_review import (
    RemediationConfigurationReview,
)
from compliance_template.cfn_rules.s3_encryption_deny_if_exists import S3EncryptionDenyIfExists
from compliance_template.cfn_rules.sns_subscription_delivery_policy import (
    SnsSubscriptionDeliveryPolicy,
)
from compliance_template.cfn_rules.sns_topic_kms_publishers import SnsTopicKmsPublishers

__all__ = [
    "ConditionNameShadows",
    "ConfigRuleIdentifierInvalid",
    "ConfigRuleIdentifierUnknown",
    "ConfigRuleInputParameters",
    "ConfigRuleTriggerSettings",
    "ConfigSingletonCondition",
    "DashboardMetricLines",
    "HardcodedPartition",
    "KmsKeyAdminStatement",
    "LambdaLocalCodeHandler",
    "LambdaRuntimeLifecycleGap",
    "LogGroupKmsKey",
    "ManagedPolicyArnInvalid",
    "RemediationConfiguration",
    "RemediationConfigurationReview",
    "S3EncryptionDenyIfExists",
    "SnsSubscriptionDeliveryPolicy",
    "SnsTopicKmsPublishers",
]
