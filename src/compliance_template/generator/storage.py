"""The reports bucket: every compliance change, report and remediation decision lands here."""

from __future__ import annotations

from troposphere import GetAtt, If, NoValue, Ref, s3

from . import policies
from .conditions import LOCK_REPORTS
from .naming import CHANGES_PREFIX
from .stack import Stack


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
            ObjectLockConfiguration=_object_lock(retention_days),
            # Reports are audit evidence: keep them when the stack goes.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        ),
        role="bucket",
    )
    stack.bucket_name, stack.bucket_arn = bucket.ref(), GetAtt(bucket, "Arn")
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


def _object_lock(retention_days: Ref) -> If:
    """Default retention for every new object version, only while ReportObjectLockMode is on.

    Only the nested ObjectLockConfiguration is set, never the bucket's top-level
    ObjectLockEnabled: changing that one replaces the bucket (CloudFormation reference), while
    this one updates in place, and S3 enables Object Lock on an existing versioned bucket through
    PutObjectLockConfiguration (docs/aws-facts.md, "Object Lock"). stateful.IMMUTABLE_PROPERTIES
    lists ObjectLockEnabled, so update safety would catch a template that sets it.

    A version is locked for as long as the lifecycle keeps it (ReportRetentionDays): the expiry
    never meets a version still under retention, and an auditor reads one number.
    """
    return If(
        LOCK_REPORTS,
        s3.ObjectLockConfiguration(
            ObjectLockEnabled="Enabled",
            Rule=s3.ObjectLockRule(
                DefaultRetention=s3.DefaultRetention(
                    Mode=Ref("ReportObjectLockMode"), Days=retention_days
                )
            ),
        ),
        NoValue,
    )
