"""`make emulator`: the local emulator as a server that any AWS client can be pointed at.

The same emulator `make deploy-local` runs (moto's server with the CloudFormation support our
templates need, compliance_template/local/emulator.py), on 127.0.0.1 only, until Ctrl-C (SIGINT) or
SIGTERM. With `AWS_ENDPOINT_URL=http://127.0.0.1:<port>` and dummy credentials, the plain AWS CLI
(`aws cloudformation package` and `deploy`) and any SDK work against it as against AWS.

    python -m compliance_template.local.server [--port 4566]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ..deploy.invocation import option
from .emulator import DUMMY_CREDENTIALS, HOST, Emulator, PortInUse

DEFAULT_PORT = 4566
# moto serves every region; this one is only what the printed environment suggests.
SUGGESTED_REGION = "us-east-1"


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def client_environment(port: int) -> str:
    """The shell line that points the AWS CLI and the SDKs at the emulator."""
    values = {
        "AWS_ENDPOINT_URL": endpoint_url(port),
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": SUGGESTED_REGION,
    }
    return "export " + " ".join(f"{name}={value}" for name, value in values.items())


def serve(port: int, stop: threading.Event) -> int:
    """Run the emulator on `port` until `stop` is set; 2 when the port is taken."""
    emulator = Emulator(region=SUGGESTED_REGION, port=port)
    try:
        emulator.start()  # returns once the server has answered its first requests
    except PortInUse as error:
        print(f"emulator: error: {error}: choose another with {option('--port')}", file=sys.stderr)
        return 2
    try:
        print(f"emulator: serving on {endpoint_url(port)} (Ctrl-C stops it)", flush=True)
        print(f"emulator: point a client at it with: {client_environment(port)}", flush=True)
        # A timeout, so the wait returns to the interpreter, which then runs the signal handler.
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()
    print("emulator: stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.local.server",
        description="Serve the local AWS emulator on 127.0.0.1 until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: %(default)s")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"{option('--port')} must be 1 to 65535, not {args.port}")
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    return serve(args.port, stop)


if __name__ == "__main__":
    sys.exit(main())
