"""The optional configuration recorder and delivery channel, for accounts that have none.

There can be one of each per account and region (Control Tower and Landing Zone accounts always
have them), so both sit behind the RecorderRequested condition (parameter CreateConfigRecorder,
default off).
"""

from __future__ import annotations

from troposphere import GetAtt, If, Ref, Sub, config, iam

from . import policies
from .conditions import CREATE_RECORDER
from .naming import CONFIG_PREFIX, managed_policy
from .stack import Stack

RECORDER = "ConfigRecorder"
DELIVERY_CHANNEL = "ConfigDeliveryChannel"


def wait_for_recorder() -> dict[str, object]:
    """Metadata that makes a resource wait for the recorder and channel when the stack creates
    them. DependsOn cannot be conditional; a Ref inside Fn::If in Metadata can, and CloudFormation
    orders resources by every Ref in the template, Metadata included."""
    return {
        "WaitsFor": {
            "Recorder": If(CREATE_RECORDER, Ref(RECORDER), ""),
            "DeliveryChannel": If(CREATE_RECORDER, Ref(DELIVERY_CHANNEL), ""),
        }
    }


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
        )
    )
    delivery = stack.add(
        iam.ManagedPolicy(
            "ConfigRecorderDeliveryPolicy",
            Condition=CREATE_RECORDER,
            Description=Sub("Lets AWS Config deliver to the reports bucket of ${AWS::StackName}"),
            PolicyDocument=policies.config_delivery_policy(
                GetAtt(bucket, "Arn"), key_arn, CONFIG_PREFIX
            ),
            Roles=[Ref(role)],
        )
    )
    # No DependsOn between the two: CloudFormation starts the recorder once the channel exists,
    # and a DependsOn from the channel to the recorder deadlocks that start. Both wait for the
    # delivery policy, which is attached to the role only after the role exists.
    stack.add(
        config.ConfigurationRecorder(
            RECORDER,
            Condition=CREATE_RECORDER,
            DependsOn=[delivery.title],
            RoleARN=GetAtt(role, "Arn"),
            RecordingGroup=config.RecordingGroup(
                AllSupported=True,
                # Global resources (IAM) are recorded in one region only; no rule here needs them.
                IncludeGlobalResourceTypes=False,
            ),
        ),
        role="recorder",
    )
    stack.add(
        config.DeliveryChannel(
            DELIVERY_CHANNEL,
            Condition=CREATE_RECORDER,
            DependsOn=[delivery.title],
            S3BucketName=Ref(bucket),
            S3KeyPrefix=CONFIG_PREFIX,
            S3KmsKeyArn=key_arn,
            ConfigSnapshotDeliveryProperties=config.ConfigSnapshotDeliveryProperties(
                DeliveryFrequency="TwentyFour_Hours"
            ),
        )
    )
