"""The optional configuration recorder and delivery channel, for accounts that have none.

There can be one of each per account and region (Control Tower and Landing Zone accounts always
have them), so both sit behind the CreateConfigRecorder condition, default off.
"""

from __future__ import annotations

from troposphere import GetAtt, If, Ref, cloudformation, config, iam

from . import policies
from .naming import CONFIG_PREFIX, managed_policy
from .stack import CREATE_RECORDER, Stack

# Rules depend on this handle. Its Metadata refers to the recorder and channel only when they
# are created, which gives the rules a conditional dependency CloudFormation has no syntax for.
RECORDER_READY = "ConfigRecorderReady"


def add_recorder(stack: Stack) -> None:
    bucket = stack.id("bucket")
    key_arn = GetAtt(stack.id("key"), "Arn")
    role = stack.add(
        iam.Role(
            "ConfigRecorderRole",
            Condition=CREATE_RECORDER,
            Description="Lets AWS Config record resources and deliver snapshots",
            AssumeRolePolicyDocument=policies.assume_role("config"),
            ManagedPolicyArns=[managed_policy("service-role/AWS_ConfigRole")],
            Policies=[
                iam.Policy(
                    PolicyName="deliver-to-reports-bucket",
                    PolicyDocument=policies.config_delivery_policy(
                        GetAtt(bucket, "Arn"), key_arn, CONFIG_PREFIX
                    ),
                )
            ],
        )
    )
    # No DependsOn between the two: CloudFormation starts the recorder once the channel exists,
    # and a DependsOn from the channel to the recorder deadlocks that start.
    recorder = stack.add(
        config.ConfigurationRecorder(
            "ConfigRecorder",
            Condition=CREATE_RECORDER,
            RoleARN=GetAtt(role, "Arn"),
            RecordingGroup=config.RecordingGroup(
                AllSupported=True,
                # Global resources (IAM) are recorded in one region only; no rule here needs them.
                IncludeGlobalResourceTypes=False,
            ),
        )
    )
    channel = stack.add(
        config.DeliveryChannel(
            "ConfigDeliveryChannel",
            Condition=CREATE_RECORDER,
            S3BucketName=Ref(bucket),
            S3KeyPrefix=CONFIG_PREFIX,
            S3KmsKeyArn=key_arn,
            ConfigSnapshotDeliveryProperties=config.ConfigSnapshotDeliveryProperties(
                DeliveryFrequency="TwentyFour_Hours"
            ),
        )
    )
    stack.add(
        cloudformation.WaitConditionHandle(
            RECORDER_READY,
            Metadata={
                "Recorder": If(CREATE_RECORDER, Ref(recorder), ""),
                "DeliveryChannel": If(CREATE_RECORDER, Ref(channel), ""),
            },
        )
    )
