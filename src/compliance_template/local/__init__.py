"""The local emulator (moto's server with our CloudFormation handlers) and the local deploy cycle
on it. Its modules need the `local` extra (compliance_template/extras.py)."""
