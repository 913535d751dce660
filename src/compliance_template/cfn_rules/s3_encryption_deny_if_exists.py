"""W9012: a Deny on an S3 encryption header with an ...IfExists operator."""

from __future__ import annotations

from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import resources_of_type

ENCRYPTION_KEYS = "s3:x-amz-server-side-encryption"  # and ...-aws-kms-key-id, ...-customer-*


class S3EncryptionDenyIfExists(CloudFormationLintRule):
    id = "W9012"
    shortdesc = "IfExists on an S3 encryption header in a Deny refuses uploads without the header"
    description = (
        "An ...IfExists condition operator is true when the key is absent from the request. In a "
        "bucket policy Deny on an s3:x-amz-server-side-encryption* key it therefore also refuses "
        "every upload that sends no encryption header, which is how uploads relying on the "
        "bucket's default encryption look. To deny only a present, different header, use the "
        "operator without IfExists together with Null false on the same key."
    )
    source_url = (
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
        "reference_policies_elements_condition_operators.html"
    )
    tags: ClassVar[list[str]] = ["resources", "s3", "iam"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::S3::BucketPolicy"):
            document = (resource.get("Properties") or {}).get("PolicyDocument")
            statements = document.get("Statement") if isinstance(document, dict) else None
            if isinstance(statements, dict):
                statements = [statements]
            if not isinstance(statements, list):
                continue
            base = ["Resources", name, "Properties", "PolicyDocument", "Statement"]
            for index, statement in enumerate(statements):
                for operator, key in _if_exists_on_encryption(statement):
                    matches.append(
                        RuleMatch(
                            [*base, index, "Condition", operator],
                            f"{operator} on {key} in a Deny is true when the header is absent, so "
                            f"it refuses uploads that rely on default encryption: use "
                            f"{operator.removesuffix('IfExists')} with Null {{{key}: false}}",
                        )
                    )
        return matches


def _if_exists_on_encryption(statement: Any) -> list[tuple[str, str]]:
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return []
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return []
    return [
        (operator, key)
        for operator, keys in condition.items()
        if isinstance(operator, str) and operator.endswith("IfExists") and isinstance(keys, dict)
        for key in keys
        if str(key).lower().startswith(ENCRYPTION_KEYS)
    ]
