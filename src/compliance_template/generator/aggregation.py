"""Aggregation: an account aggregator over all regions, and an optional authorization that lets
a central aggregator account collect this account's Config data."""

from __future__ import annotations

from troposphere import Equals, GetAtt, Not, Ref, Sub, config, iam

from . import policies
from .conditions import HAS_AGGREGATOR_ACCOUNT
from .naming import managed_policy
from .stack import Stack


def add_aggregation(stack: Stack) -> None:
    stack.add(
        config.AggregationAuthorization(
            "AggregationAuthorization",
            Condition=HAS_AGGREGATOR_ACCOUNT,
            AuthorizedAccountId=Ref("AggregatorAccountId"),
            AuthorizedAwsRegion=Ref("AggregatorRegion"),
        )
    )
    aggregator = stack.add(
        config.ConfigurationAggregator(
            "AccountAggregator",
            ConfigurationAggregatorName=Sub("${AWS::StackName}-all-regions"),
            AccountAggregationSources=[
                config.AccountAggregationSources(
                    AccountIds=[Ref("AWS::AccountId")], AllAwsRegions=True
                )
            ],
        ),
        role="aggregator",
    )
    # Half an aggregator target would silently authorize nothing: refuse it at deploy time.
    account_empty = Equals(Ref("AggregatorAccountId"), "")
    region_empty = Equals(Ref("AggregatorRegion"), "")
    stack.template.add_rule(
        "AggregatorAccountAndRegionTogether",
        {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::And": [account_empty, region_empty]},
                            {"Fn::And": [Not(account_empty), Not(region_empty)]},
                        ]
                    },
                    "AssertDescription": "AggregatorAccountId and AggregatorRegion must be "
                    "set together, or both left empty",
                }
            ]
        },
    )
    stack.output("AggregatorName", "Config aggregator over all regions", aggregator.ref())


def add_organization_aggregator(stack: Stack) -> None:
    """An organization aggregator over all regions, for the central account."""
    role = stack.add(
        iam.Role(
            "OrganizationAggregatorRole",
            Description="Lets AWS Config read the organization's accounts for the aggregator",
            AssumeRolePolicyDocument=policies.assume_role("config"),
            ManagedPolicyArns=[managed_policy("service-role/AWSConfigRoleForOrganizations")],
        )
    )
    aggregator = stack.add(
        config.ConfigurationAggregator(
            "OrganizationAggregator",
            ConfigurationAggregatorName=Sub("${AWS::StackName}-organization"),
            OrganizationAggregationSource=config.OrganizationAggregationSource(
                RoleArn=GetAtt(role, "Arn"), AllAwsRegions=True
            ),
        ),
        role="aggregator",
    )
    stack.output("AggregatorName", "Config aggregator over the organization", aggregator.ref())
