"""Search logic shared by the search APIs: body validation, criteria, a Lucene subset, sorting, paging.

Semantics (see README "Search semantics"):

* ``criteria``: ``{field: [values]}``; fields are AND-ed, the values of one field OR-ed. A value
  matches when it equals the record's value (strings case-insensitively); for list-valued fields
  any element may match. A dict value is a time range on that field: ``{"range": "-3w"}`` or
  ``{"start": ISO8601, "end": ISO8601}``. ``status: ["ALL"]`` matches every status.
* ``exclusions``: the same shape; a record matching any exclusion field is dropped.
* ``query``: ``field:value`` terms and bare words (matched against ``name``), combined with
  ``AND``, ``OR``, ``NOT``/``-``, parentheses; juxtaposition means AND; ``*``/``?`` wildcards.
* ``sort``: ``[{"field": f, "order": "ASC"|"DESC"}]``; nulls last; ties by ``id``.
* ``start``: 1-based; absent, 0 or 1 all mean the first row. ``rows`` at most 10,000.
"""

import fnmatch
import re
from datetime import datetime, timedelta, timezone

from cbcsim.protocol import ApiError, bad_request

MAX_ROWS = 10000
DEFAULT_ROWS = 20
#: Body keys that page results. Bodies that select a whole set (device-action ``search``, ``_facet``) reject them.
PAGING_KEYS = ("rows", "start")
#: Body keys that select records.
FILTER_KEYS = ("criteria", "exclusions", "query")

_RANGE_RE = re.compile(r"^-(\d+)([smhdwy])$")
_RANGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_TOKEN_RE = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|[^\s()"]+)')


class QuerySyntaxError(ApiError):
    """A 400 for an unparsable ``query`` string; cbc_sdk maps ``reason`` to QuerySyntaxError."""

    def __init__(self, message):
        super().__init__(400, "INVALID_QUERY", "Invalid query: " + message, extra={"reason": "query_malformed_syntax"})


def normalize(value):
    """Return a comparable form of a scalar: lower-cased string, ``"true"``/``"false"``, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).lower()


def parse_time(text):
    """Parse an ISO-8601 timestamp (``Z`` allowed) into an aware datetime; None if impossible."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def format_time(value):
    """Format an aware datetime the way CBC does: ``2020-08-26T21:05:42.518Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "{0:03d}Z".format(value.microsecond // 1000)


class TimeRange:
    """A time window from a criteria dict; ``contains`` tests an ISO timestamp string."""

    def __init__(self, field, spec, now=None):
        now = now or datetime.now(timezone.utc)
        self.start = None
        self.end = None
        if "range" in spec:
            if "start" in spec or "end" in spec:
                raise bad_request("criteria.{0}: cannot combine range with start/end".format(field))
            match = _RANGE_RE.match(str(spec["range"]).strip())
            if not match:
                raise bad_request("criteria.{0}.range must look like -30m, -1d or -3w".format(field))
            self.start = now - timedelta(seconds=int(match.group(1)) * _RANGE_UNITS[match.group(2)])
            self.end = now
        elif "start" in spec or "end" in spec:
            for key in ("start", "end"):
                if key in spec:
                    parsed = parse_time(spec[key])
                    if parsed is None:
                        raise bad_request("criteria.{0}.{1} must be an ISO-8601 timestamp".format(field, key))
                    setattr(self, key, parsed)
        else:
            raise bad_request("criteria.{0} must hold range or start/end".format(field))

    def contains(self, text):
        """Return True if the timestamp string lies inside the window."""
        value = parse_time(text)
        if value is None:
            return False
        if self.start is not None and value < self.start:
            return False
        return self.end is None or value <= self.end


def compile_field_filters(section, spec):
    """Turn a criteria/exclusions dict into a list of ``(field, matcher)``; raises 400 if malformed."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        raise bad_request("{0} must be a JSON object".format(section))
    filters = []
    for field, values in spec.items():
        if isinstance(values, dict):
            filters.append((field, TimeRange(field, values)))
        elif isinstance(values, list):
            wanted = {normalize(value) for value in values if not isinstance(value, (dict, list))}
            if field == "status" and "all" in wanted:
                continue
            filters.append((field, wanted))
        else:
            raise bad_request("{0}.{1} must be an array of values".format(section, field))
    return filters


def field_matches(record, field, matcher):
    """Return True if ``record[field]`` satisfies a compiled criteria matcher."""
    value = record.get(field)
    if isinstance(matcher, TimeRange):
        return matcher.contains(value)
    if isinstance(value, list):
        return any(normalize(item) in matcher for item in value if not isinstance(item, (dict, list)))
    return normalize(value) in matcher


def matches_filters(record, filters):
    """True when every (field, matcher) matches (AND across fields, OR within one)."""
    return all(field_matches(record, field, matcher) for field, matcher in filters)


def matches_any_filter(record, filters):
    """True when at least one exclusion field matches."""
    return any(field_matches(record, field, matcher) for field, matcher in filters)


# --- Lucene subset -----------------------------------------------------------------------------


def _tokenize(text):
    tokens = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match:
            raise QuerySyntaxError("cannot parse near {0!r}".format(text[position:position + 20]))
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _unquote(token):
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1]), True
    return token, False


class _Term:
    def __init__(self, field, value, quoted):
        self.field = field
        self.value = value.lower()
        self.wildcard = not quoted and any(ch in value for ch in "*?")

    def _match_one(self, candidate, substring):
        text = normalize(candidate)
        if text is None:
            return False
        if self.wildcard:
            return fnmatch.fnmatchcase(text, self.value)
        return self.value in text if substring else text == self.value

    def __call__(self, record):
        if self.field is None:
            return self._match_one(record.get("name"), substring=True)
        value = record.get(self.field)
        if isinstance(value, list):
            return any(self._match_one(item, substring=False) for item in value)
        return self._match_one(value, substring=False)


class _Not:
    def __init__(self, inner):
        self.inner = inner

    def __call__(self, record):
        return not self.inner(record)


class _And:
    def __init__(self, parts):
        self.parts = parts

    def __call__(self, record):
        return all(part(record) for part in self.parts)


class _Or:
    def __init__(self, parts):
        self.parts = parts

    def __call__(self, record):
        return any(part(record) for part in self.parts)


class _QueryParser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.position = 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.position += 1
        return token

    def parse(self):
        node = self.parse_or()
        if self.peek() is not None:
            raise QuerySyntaxError("unexpected {0!r}".format(self.peek()))
        return node

    def parse_or(self):
        parts = [self.parse_and()]
        while self.peek() in ("OR", "||"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else _Or(parts)

    def parse_and(self):
        parts = [self.parse_not()]
        while self.peek() is not None and self.peek() not in ("OR", "||", ")"):
            if self.peek() in ("AND", "&&"):
                self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else _And(parts)

    def parse_not(self):
        token = self.peek()
        if token in ("NOT", "!"):
            self.take()
            return _Not(self.parse_not())
        if token is not None and token.startswith("-") and len(token) > 1:
            self.tokens[self.position] = token[1:]
            return _Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self):
        token = self.take()
        if token is None:
            raise QuerySyntaxError("unexpected end of query")
        if token == "(":
            node = self.parse_or()
            if self.take() != ")":
                raise QuerySyntaxError("missing closing parenthesis")
            return node
        if token in (")", "AND", "OR", "&&", "||"):
            raise QuerySyntaxError("unexpected {0!r}".format(token))
        if token.startswith('"'):
            value, quoted = _unquote(token)
            return _Term(None, value, quoted)
        field, sep, value = token.partition(":")
        if not sep:
            return _Term(None, token, False)
        if not field:
            raise QuerySyntaxError("missing field name before ':'")
        if not value:
            following = self.peek()
            if following is None or not following.startswith('"'):
                raise QuerySyntaxError("missing value after {0!r}".format(token))
            value = self.take()
        value, quoted = _unquote(value)
        if not value:
            raise QuerySyntaxError("empty value for field {0!r}".format(field))
        return _Term(field, value, quoted)


def compile_query(text):
    """Compile a query string into a predicate ``record -> bool``; None for an empty query."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise bad_request("query must be a string")
    if not text.strip():
        return None
    if text.count('"') % 2:
        raise QuerySyntaxError("unbalanced quotes")
    return _QueryParser(_tokenize(text)).parse()


# --- request body, sorting, paging -------------------------------------------------------------


def _int_field(body, name, default, minimum, maximum=None):
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("{0} must be an integer".format(name))
    if value < minimum:
        raise bad_request("{0} must be at least {1}".format(name, minimum))
    if maximum is not None and value > maximum:
        raise bad_request("{0} must be at most {1} (got {2}); use _scroll to read more than {1} results".format(name, maximum, value))
    return value


def compile_sort(sort):
    """Validate ``sort`` and return ``[(field, descending), ...]``."""
    if sort is None:
        return []
    if not isinstance(sort, list):
        raise bad_request("sort must be an array of {field, order} objects")
    result = []
    for item in sort:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str) or not item["field"]:
            raise bad_request("each sort entry needs a field")
        order = str(item.get("order", "ASC")).upper()
        if order not in ("ASC", "DESC"):
            raise bad_request("sort order must be ASC or DESC, not {0!r}".format(item.get("order")))
        result.append((item["field"], order == "DESC"))
    return result


def _sort_key_value(value):
    if isinstance(value, bool):
        return (0, int(value), "")
    if isinstance(value, (int, float)):
        return (0, value, "")
    if isinstance(value, str):
        return (1, 0, value.lower())
    return (1, 0, str(value).lower())


def sort_records(records, sort_spec):
    """Sort records in place by ``[(field, descending)]``; nulls last; ``id`` ascending breaks ties."""
    for field, descending in reversed(sort_spec):
        present = [r for r in records if r.get(field) is not None]
        missing = [r for r in records if r.get(field) is None]
        present.sort(key=lambda record, f=field: _sort_key_value(record.get(f)), reverse=descending)
        records[:] = present + missing
    return records


class SearchRequest:
    """A validated search body: filters, exclusions, query predicate, sort, offset and rows."""

    def __init__(self, body, default_rows=DEFAULT_ROWS, max_rows=MAX_ROWS):
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad_request("search body must be a JSON object")
        self.filters = compile_field_filters("criteria", body.get("criteria"))
        self.exclusions = compile_field_filters("exclusions", body.get("exclusions"))
        self.query = compile_query(body.get("query"))
        self.sort = compile_sort(body.get("sort"))
        self.rows = _int_field(body, "rows", default_rows, 0, max_rows)
        start = _int_field(body, "start", 0, 0)
        self.offset = max(start - 1, 0)

    def matches(self, record):
        """Return True if the record passes criteria, exclusions and query."""
        if self.filters and not matches_filters(record, self.filters):
            return False
        if self.exclusions and matches_any_filter(record, self.exclusions):
            return False
        return self.query is None or self.query(record)

    def select(self, records):
        """Return the sorted list of matching records (all pages)."""
        found = [record for record in records if self.matches(record)]
        if self.sort:
            sort_records(found, self.sort)
        return found

    def page(self, found):
        """Return the page of ``found`` selected by start/rows."""
        return found[self.offset:self.offset + self.rows]


def filter_request(body, section):
    """Return a SearchRequest for a body that selects every matching record, without paging.

    Used for the ``search`` of a device action and for ``_facet``: ``criteria``, ``exclusions`` and
    ``query`` apply; ``rows``/``start`` are a 400 (the operation always covers every match, so a
    page size would be misleading); ``sort`` and any other key are ignored. ``section`` names the
    body in error messages.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("{0} must be a JSON object".format(section))
    paging = [key for key in PAGING_KEYS if key in body]
    if paging:
        raise bad_request("{0} must not contain {1}: it always covers every matching device".format(section, "/".join(paging)))
    return SearchRequest({key: body[key] for key in FILTER_KEYS if key in body})
