"""HTTPS server: TLS, request dispatch, authentication/RBAC enforcement, faults and request logging."""

import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cbcsim import alerts, csp, device_actions, devices, forwarders, jobs, onprem, policies, reputation
from cbcsim.auth import authenticate, authorize, claimed_auth_label
from cbcsim.control import build_control_routes
from cbcsim.protocol import ApiError, RequestContext, Response
from cbcsim.requestlog import RequestLog, redact, utc_timestamp
from cbcsim.routing import RouteTable

#: Modules whose ``register(table)`` adds API routes. New API modules are appended here.
API_MODULES = (csp, devices, device_actions, policies, forwarders, alerts, reputation, jobs)
CONTROL_PREFIX = "/_sim/"
MAX_BODY_BYTES = 16 * 1024 * 1024


def build_api_routes(modules=API_MODULES):
    """Return the RouteTable with the routes of every API module."""
    table = RouteTable()
    for module in modules:
        module.register(table)
    return table


def fault_response(fault):
    """Return the Response of a status fault (its body, and Retry-After if set)."""
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    return Response(fault.status, fault.body, headers)


def loggable_body(ctx):
    """Return the request body for the log: parsed JSON or form, secrets redacted; None if empty."""
    raw = ctx.raw_body
    if not raw or not raw.strip():
        return None
    if ctx.content_type() == "application/x-www-form-urlencoded":
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return redact({key: values[-1] if len(values) == 1 else values for key, values in form.items()})
    try:
        return redact(ctx.json(required_type=None))
    except ApiError:
        return "<unparsable body: {0} bytes>".format(len(raw))


def loggable_query(query):
    """Return the query string as a dict (single values unwrapped), secrets redacted."""
    return redact({key: values[-1] if len(values) == 1 else values for key, values in query.items()})


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    """Handles every request on one (keep-alive) connection."""

    protocol_version = "HTTP/1.1"
    server_version = "CBCSimulator/1.0"
    sys_version = ""
    timeout = 120

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default stderr access log (the JSONL log replaces it)."""

    def do_GET(self):  # pylint: disable=invalid-name
        """Dispatch GET."""
        self.dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        """Dispatch POST."""
        self.dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        """Dispatch PUT."""
        self.dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        """Dispatch PATCH."""
        self.dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        """Dispatch DELETE."""
        self.dispatch()

    def read_body(self):
        """Read the request body according to Content-Length (chunked bodies are not supported)."""
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0 or size > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(400, "INVALID_REQUEST", "Invalid Content-Length")
        return self.rfile.read(size)

    def send_api_response(self, response, payload=None):
        """Write a response with Content-Length (keep-alive friendly); ``payload`` is the encoded body if known."""
        if payload is None:
            payload = response.encode()
        self.send_response(response.status)
        if response.body is not None and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, str(value))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def drop_connection(self):
        """Close the connection without sending any response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dispatch(self):
        """Handle one request: control API, or faults → routing → auth → RBAC → handler, then log.

        A fault with ``apply`` acts after the handler instead (see ``dispatch_applied``).
        """
        started = time.monotonic()
        sim = self.server.simulator
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            raw_body = self.read_body()
        except ApiError as exc:
            self.send_api_response(exc.to_response())
            return
        ctx = RequestContext(sim.state, self.command, path, query, self.headers, raw_body)
        if path.startswith(CONTROL_PREFIX):
            self.send_api_response(sim.run_route(sim.control_routes, ctx, check_auth=False))
            return

        fault = sim.state.faults.match(self.command, path)
        if fault is not None and fault.apply:
            self.dispatch_applied(ctx, fault, started)
            return
        delay_ms = sim.state.config.latency_ms + ((fault.latency_ms or 0) if fault else 0)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault is not None and (fault.drop or fault.status is not None):
            route_api = sim.api_routes.find_api(self.command, path)
            ctx.auth_label = sim.claimed_auth_label(self.headers)
            if fault.drop:
                sim.log_request(ctx, route_api, None, False, fault, started)
                self.drop_connection()
                return
            response = fault_response(fault)
            sim.log_request(ctx, route_api, response.status, False, fault, started)
            self.send_api_response(response)
            return

        response, route = sim.run_api(ctx)
        payload = response.encode()
        sim.log_request(ctx, route.api if route else None, response.status, bool(route and route.write), fault, started)
        self.send_api_response(response, payload)

    def dispatch_applied(self, ctx, fault, started):
        """Handle the request normally (routing, auth, RBAC, handler: a write is applied), then let
        ``fault`` act on the answer: sleep ``latency_ms``, then drop the connection, send the fault's
        status instead of the real response, or send the real response (latency only).

        The log line has ``status`` = what the client got (null for drop), ``applied_status`` = the
        handler's status, and ``write`` true only for a write route whose handler succeeded.
        """
        sim = self.server.simulator
        if sim.state.config.latency_ms:
            time.sleep(sim.state.config.latency_ms / 1000.0)
        response, route = sim.run_api(ctx)
        applied_status = response.status
        api = route.api if route else None
        write = bool(route and route.write and applied_status < 400)
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000.0)
        if fault.drop:
            sim.log_request(ctx, api, None, write, fault, started, applied_status=applied_status)
            self.drop_connection()
            return
        if fault.status is not None:
            response = fault_response(fault)
        payload = response.encode()
        sim.log_request(ctx, api, response.status, write, fault, started, applied_status=applied_status)
        self.send_api_response(response, payload)


class SimulatorHTTPServer(ThreadingHTTPServer):
    """Threading HTTP server that does the TLS handshake in the worker thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, ssl_context, simulator, ipv6=False):
        if ipv6:
            self.address_family = socket.AF_INET6
        self.ssl_context = ssl_context
        self.simulator = simulator
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        """Wrap the accepted socket in TLS, then handle its requests; always close it."""
        request.settimeout(SimulatorRequestHandler.timeout)
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the body back
        # until the client's delayed ACK (about 40 ms per response on Linux).
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            tls_socket = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        finally:
            try:
                tls_socket.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """Ignore client disconnects; report other errors briefly on stderr."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        sys.stderr.write("cbcsim: error while handling a request from {0}: {1!r}\n".format(client_address[0], exc))


class Simulator:
    """The running simulator: state, routes, request log and HTTPS server."""

    def __init__(self, state, ssl_context, log_path):
        self.state = state
        product = state.config.product
        self.api_routes = build_api_routes() if product == onprem.CBC else onprem.build_api_routes(product)
        self.control_routes = build_control_routes()
        onprem.register_control(self.control_routes, product)
        self.request_log = RequestLog(log_path, secrets=state.known_secrets)
        config = state.config
        ipv6 = ":" in config.host
        self.httpd = SimulatorHTTPServer((config.host, config.port), SimulatorRequestHandler, ssl_context, self, ipv6=ipv6)
        self.port = self.httpd.server_address[1]
        host = "[{0}]".format(config.host) if ipv6 else config.host
        self.url = "https://{0}:{1}".format(host, self.port)
        self._thread = None

    def run_route(self, table, ctx, check_auth=True):
        """Resolve and run a route; return the Response (errors become error responses)."""
        return self._run(table, ctx, check_auth)[0]

    def run_api(self, ctx):
        """Run an API request; return ``(response, route or None)``."""
        return self._run(self.api_routes, ctx, True)

    def _run(self, table, ctx, check_auth):
        route = None
        try:
            route, params = table.resolve(ctx.method, ctx.path)
            ctx.params = params
            if check_auth and route.auth == "cbc":
                ctx.auth_label = claimed_auth_label(ctx.headers, self.state.tokens)
                ctx.identity, ctx.auth_label = authenticate(ctx.headers, self.state.identities, self.state.tokens)
                authorize(ctx.identity, ctx.org_key, route.permission)
            elif check_auth and route.auth == onprem.AUTH:
                onprem.check_access(ctx, route.permission)
            response = route.handler(ctx)
        except ApiError as exc:
            response = exc.to_response()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            sys.stderr.write("cbcsim: internal error in {0} {1}: {2!r}\n".format(ctx.method, ctx.path, exc))
            response = Response(500, {"error_code": "INTERNAL_ERROR", "message": "Simulator internal error: {0}".format(type(exc).__name__)})
        return response, route

    def log_request(self, ctx, api, status, write, fault, started, applied_status=None):
        """Append one line to the request log (with ``applied_status`` when an ``apply`` fault replaced the answer)."""
        if ctx.auth_label is None:
            ctx.auth_label = self.claimed_auth_label(ctx.headers)
        entry = {
            "ts": utc_timestamp(),
            "method": ctx.method,
            "path": ctx.path,
            "query": loggable_query(ctx.query),
            "status": status,
        }
        if applied_status is not None:
            entry["applied_status"] = applied_status
        entry.update({
            "api": api,
            "write": write,
            "auth": ctx.auth_label,
            "org_key": ctx.params.get("org_key") or (ctx.identity.org_key if ctx.identity else None),
            "user_agent": ctx.headers.get("User-Agent"),
            "body": loggable_body(ctx),
            "fault": fault.name if fault else None,
            "duration_ms": round((time.monotonic() - started) * 1000.0, 3),
        })
        entry.update(ctx.log_fields)
        self.request_log.write(entry)

    def claimed_auth_label(self, headers):
        """The log's ``auth`` for the identity a request claims (``token:<username>`` for the on-prem products)."""
        if self.state.onprem is not None:
            return self.state.onprem.claimed_auth_label(headers)
        return claimed_auth_label(headers, self.state.tokens)

    def start(self):
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="cbcsim-server", daemon=True)
        self._thread.start()

    def stop(self):
        """Stop serving and close the socket and the log."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.request_log.close()


def write_json_atomically(path, data):
    """Write JSON to ``path`` through a temporary file and a rename."""
    tmp_path = "{0}.tmp.{1}".format(path, os.getpid())
    with open(tmp_path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(tmp_path, path)
