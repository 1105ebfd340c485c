"""Types shared by the HTTP server and the route handlers: errors, responses and the request context."""

import json


class ApiError(Exception):
    """An error answered to the client as ``{"error_code": ..., "message": ...}`` with an HTTP status."""

    def __init__(self, status, error_code, message, headers=None, extra=None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def to_response(self):
        """Return the error as a :class:`Response`."""
        body = {"error_code": self.error_code, "message": self.message}
        body.update(self.extra)
        return Response(self.status, body, self.headers)


def bad_request(message, **extra):
    """Return a 400 ApiError with error_code INVALID_REQUEST."""
    return ApiError(400, "INVALID_REQUEST", message, extra=extra)


def not_found(message):
    """Return a 404 ApiError with error_code NOT_FOUND."""
    return ApiError(404, "NOT_FOUND", message)


class Response:
    """An HTTP response: status, a JSON-serializable body (None means no body) and extra headers."""

    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def encode(self):
        """Return the body as bytes (empty for no body)."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")


class RequestContext:
    """Everything a route handler needs to know about one request."""

    def __init__(self, state, method, path, query, headers, raw_body, params=None):
        self.state = state
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw_body = raw_body
        self.params = dict(params or {})
        self.identity = None
        self.auth_label = None
        #: Extra fields a handler adds to this request's log entry (e.g. ``device_count``).
        self.log_fields = {}

    @property
    def org_key(self):
        """The ``{org_key}`` path segment, or None for routes without one."""
        return self.params.get("org_key")

    def content_type(self):
        """Return the media type of the request body, lower-cased, without parameters."""
        value = self.headers.get("Content-Type") or ""
        return value.split(";", 1)[0].strip().lower()

    def json(self, default=None, required_type=dict):
        """Return the request body parsed as JSON; an empty body gives ``default``.

        Raises a 400 ApiError if the body is not valid JSON or not of ``required_type``.
        """
        if not self.raw_body or not self.raw_body.strip():
            return default
        try:
            value = json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise bad_request("Request body is not valid JSON: {0}".format(exc)) from None
        if required_type is not None and not isinstance(value, required_type):
            raise bad_request("Request body must be a JSON {0}".format("object" if required_type is dict else "value"))
        return value
