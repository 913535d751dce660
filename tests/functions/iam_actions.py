"""boto3 operation -> the IAM actions AWS authorizes it with, for the calls remediation makes.

botocore's service models do not say which IAM action an operation needs, and the names differ
(S3's GetBucketEncryption is authorized as s3:GetEncryptionConfiguration), so each entry is
copied from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
and checked against botocore's operations and awacs's actions by
test_remediation_permissions.py. A rule module that calls an operation missing here fails its
test until the operation is added.
"""

from __future__ import annotations

# (service as boto3 names it, operation as the API names it) -> IAM actions
IAM_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "GetBucketTagging"): ("s3:GetBucketTagging",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("rds", "DescribeDBInstances"): ("rds:DescribeDBInstances",),
    ("rds", "ListTagsForResource"): ("rds:ListTagsForResource",),
    ("rds", "ModifyDBInstance"): ("rds:ModifyDBInstance",),
    ("ec2", "DescribeVolumes"): ("ec2:DescribeVolumes",),
    ("ec2", "GetEbsEncryptionByDefault"): ("ec2:GetEbsEncryptionByDefault",),
    ("ec2", "EnableEbsEncryptionByDefault"): ("ec2:EnableEbsEncryptionByDefault",),
    ("ec2", "DescribeInstances"): ("ec2:DescribeInstances",),
    ("ec2", "CreateTags"): ("ec2:CreateTags",),
}
