"""The reports bucket: every compliance change, report and remediation decision lands here."""

from __future__ import annotations

from troposphere import GetAtt, Ref, s3

from . import policies
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
