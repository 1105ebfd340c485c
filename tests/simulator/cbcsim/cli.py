"""Command line: ``python -m cbcsim --state-dir DIR [options]``."""

import argparse
import os
import signal
import ssl
import sys
import threading

import trustme

from cbcsim import onprem
from cbcsim.faults import parse_fault_spec
from cbcsim.jobs import DEFAULT_JOB_DELAY
from cbcsim.server import Simulator, write_json_atomically
from cbcsim.state import SimulatorConfig, SimulatorState

READY_FILE = "simulator.json"
CA_FILE = "ca.pem"
LOG_FILE = "requests.jsonl"


def build_parser():
    """Return the argument parser."""
    parser = argparse.ArgumentParser(prog="cbcsim", description="Local HTTPS simulator of the Carbon Black Cloud API (or EDR or App Control).")
    parser.add_argument("--state-dir", required=True, help="directory for ca.pem, requests.jsonl and simulator.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: an ephemeral port)")
    parser.add_argument("--devices", type=int, default=50, help="devices seeded in org ABCD1234 (default 50)")
    parser.add_argument("--other-org-devices", type=int, default=5, help="devices seeded in org WXYZ9876 (default 5)")
    parser.add_argument("--orgs", type=int, default=0,
                        help="extra orgs MSSP0001..MSSPnnnn, each with its own keys, devices and policies (default 0)")
    parser.add_argument("--org-devices", type=int, default=20, help="devices seeded in each extra org (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data (default 1)")
    parser.add_argument("--token-ttl", type=int, default=1800, help="lifetime of CSP access tokens in seconds (default 1800)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="fault rule, e.g. 'path=devices/_search,status=429,retry_after=1,count=3' (repeatable)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every API request (default 0)")
    parser.add_argument("--keys-file", help="JSON file with identities to add (or to replace the defaults)")
    parser.add_argument("--product", choices=onprem.PRODUCTS, default=onprem.CBC,
                        help="the API served: cbc (default), edr (CB Response) or app_control (CB Protection)")
    parser.add_argument("--edr-url", help="App Control's configured EDR server (serverConfig CBServerUrl; --product app_control)")
    parser.add_argument("--alerts", type=int, default=0, help="alerts seeded in org ABCD1234 (default 0)")
    parser.add_argument("--job-delay", type=float, default=DEFAULT_JOB_DELAY, metavar="SECONDS",
                        help="seconds an alert workflow job stays CREATED before it completes (default 0.2; 0: at once)")
    return parser


def make_tls_context(state_dir):
    """Create a CA and a server certificate for localhost/127.0.0.1/::1; write the CA to ca.pem."""
    authority = trustme.CA(organization_name="CBC simulator test CA")
    server_cert = authority.issue_cert("localhost", "127.0.0.1", "::1")
    ca_path = os.path.join(state_dir, CA_FILE)
    authority.cert_pem.write_to_path(ca_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context, ca_path


def main(argv=None):
    """Run the simulator until SIGTERM/SIGINT; return the exit status."""
    args = build_parser().parse_args(argv)
    for spec in args.fault:
        try:
            parse_fault_spec(spec)
        except ValueError as exc:
            sys.stderr.write("cbcsim: invalid --fault {0!r}: {1}\n".format(spec, exc))
            return 2
    if args.devices < 0 or args.other_org_devices < 0 or args.org_devices < 0 or not 0 <= args.orgs <= 999:
        sys.stderr.write("cbcsim: device counts must not be negative, and --orgs is 0 to 999\n")
        return 2
    if args.alerts < 0 or args.job_delay < 0:
        sys.stderr.write("cbcsim: --alerts and --job-delay must not be negative\n")
        return 2
    if args.edr_url is not None and args.product != onprem.APP_CONTROL:
        sys.stderr.write("cbcsim: --edr-url applies to --product app_control only\n")
        return 2
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ready_path = os.path.join(state_dir, READY_FILE)
    if os.path.exists(ready_path):
        os.remove(ready_path)
    config = SimulatorConfig(state_dir, host=args.host, port=args.port, devices=args.devices, seed=args.seed,
                             token_ttl=args.token_ttl, faults=args.fault, latency_ms=args.latency_ms,
                             keys_file=args.keys_file, other_org_devices=args.other_org_devices, orgs=args.orgs,
                             org_devices=args.org_devices, product=args.product, edr_url=args.edr_url,
                             alerts=args.alerts, job_delay=args.job_delay)
    try:
        state = SimulatorState(config)
    except (OSError, ValueError) as exc:
        sys.stderr.write("cbcsim: cannot load configuration: {0}\n".format(exc))
        return 2
    context, ca_path = make_tls_context(state_dir)
    log_path = os.path.join(state_dir, LOG_FILE)
    simulator = Simulator(state, context, log_path)

    stop_event = threading.Event()

    def request_stop(_signum, _frame):
        stop_event.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    simulator.start()
    write_json_atomically(ready_path, {"url": simulator.url, "port": simulator.port, "pid": os.getpid(),
                                       "ca_file": ca_path, "log_file": log_path, "product": args.product})
    sys.stdout.write("CBC simulator listening on {0}\n".format(simulator.url))
    sys.stdout.flush()
    while not stop_event.wait(0.5):
        pass
    simulator.stop()
    try:
        os.remove(ready_path)
    except OSError:
        pass
    sys.stdout.write("CBC simulator stopped\n")
    sys.stdout.flush()
    return 0
