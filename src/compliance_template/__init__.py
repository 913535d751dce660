"""Generate the compliance-monitoring CloudFormation stack."""
