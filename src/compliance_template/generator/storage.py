"""The reports bucket: every compliance change, report and remediation decision lands here."""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Not, NoValue, Ref, s3

from . import policies
from .conditions import LOCK_REPORTS
from .naming import CHANGES_PREFIX
from .parameters import OBJECT_LOCK_DAYS
from .stack import Stack

LOCK_DAYS_RULE = "ReportObjectLockWithinRetention"


def add_storage(stack: Stack) -> None:
    key_arn = GetAtt(stack.id("key"), "Arn")
    retention_days = Ref("ReportRetentionDays")
    bucket = stack.add(
        s3.Bucket(
            "ReportsBucket",
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn
                        ),
                        # One KMS call per bucket key period instead of one per object.
                        BucketKeyEnabled=True,
                    )
                ]
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="ExpireReports",
                        Status="Enabled",
                        ExpirationInDays=retention_days,
                        # Versioning keeps overwritten records; expire those on the same clock.
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=retention_days
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=1
                        ),
                    )
                ]
            ),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            ObjectLockConfiguration=_object_lock(),
            # Reports are audit evidence: keep them when the stack goes.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        ),
        role="bucket",
    )
    stack.bucket_name, stack.bucket_arn = bucket.ref(), GetAtt(bucket, "Arn")
    stack.template.add_rule(LOCK_DAYS_RULE, lock_days_rule())
    stack.add(
        s3.BucketPolicy(
            "ReportsBucketPolicy",
            Bucket=bucket.ref(),
            PolicyDocument=policies.bucket_policy(
                GetAtt(bucket, "Arn"), key_arn, stack.organization_id, CHANGES_PREFIX
            ),
        )
    )
    stack.output("ReportsBucketName", "Bucket with compliance records and reports", bucket.ref())
    stack.output("ReportsBucketArn", "ARN of the reports bucket", GetAtt(bucket, "Arn"))


def _object_lock() -> If:
    """Default retention for every new object version, only while ReportObjectLockMode is on.

    Only the nested ObjectLockConfiguration is set, never the bucket's top-level
    ObjectLockEnabled: changing that one replaces the bucket (CloudFormation reference), while
    this one updates in place, and S3 enables Object Lock on an existing versioned bucket through
    PutObjectLockConfiguration (docs/aws-facts.md, "Object Lock"). stateful.IMMUTABLE_PROPERTIES
    lists ObjectLockEnabled, so update safety would catch a template that sets it.
    """
    return If(
        LOCK_REPORTS,
        s3.ObjectLockConfiguration(
            ObjectLockEnabled="Enabled",
            Rule=s3.ObjectLockRule(
                DefaultRetention=s3.DefaultRetention(
                    Mode=Ref("ReportObjectLockMode"), Days=Ref("ReportObjectLockDays")
                )
            ),
        ),
        NoValue,
    )


def lock_days_rule() -> dict:
    """ReportObjectLockDays may not exceed ReportRetentionDays while the lock is on.

    Rules compare strings only (Equals, Contains), so the lock period is one of OBJECT_LOCK_DAYS
    and each step below it gets one assertion: a lock of at least that step needs a retention
    outside the days below it. A lock of step k meets the assertions of every step up to k,
    which together refuse every retention below it; each retention value is listed once.
    """
    steps = OBJECT_LOCK_DAYS
    assertions = []
    for index in range(1, len(steps)):
        low, high = steps[index - 1], steps[index]
        assertions.append(
            {
                "Assert": {
                    "Fn::Or": [
                        Not(
                            {
                                "Fn::Contains": [
                                    [str(d) for d in steps[index:]],
                                    Ref("ReportObjectLockDays"),
                                ]
                            }
                        ),
                        Not(
                            {
                                "Fn::Contains": [
                                    [str(d) for d in range(low, high)],
                                    Ref("ReportRetentionDays"),
                                ]
                            }
                        ),
                    ]
                },
                "AssertDescription": f"ReportObjectLockDays of {high} or more needs "
                f"ReportRetentionDays of at least {high}: the lock may not outlast the "
                "lifecycle expiry",
            }
        )
    return {
        "RuleCondition": Not(Equals(Ref("ReportObjectLockMode"), "off")),
        "Assertions": assertions,
    }
