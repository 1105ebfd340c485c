# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read Carbon Black Cloud credential profiles the way the CBC SDK does.

The rules follow ``carbon-black-cloud-sdk`` 1.5.10 (``FileCredentialProvider``,
``Credentials`` and ``EnvironCredentialProvider``) for the ``cbc`` product and
the legacy ``cbapi`` 2.0.0 (same code in 1.7.10) ``FileCredentialStore`` and ``EnvarCredentialStore``
for ``response`` and ``protection``.

Deliberate differences from the SDK (all of them make errors clearer, none of
them changes a value the SDK would return):

* only the requested profile is converted, so a bad value in one profile does
  not break the other profiles;
* error messages name the profile, the files searched and the file a bad value
  came from, and never contain a secret;
* a file that exists but cannot be opened or decoded is reported instead of
  being skipped silently (or failing with a raw ``OSError``).

This file runs on the controller (lookup plugin) and on managed hosts (modules):
standard library only, Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import configparser
import io
import os
import sys
from pathlib import Path

from .errors import CbcConfigError


# The 15 keys of the CBC SDK ``CredentialValue`` enum, in the SDK's order.
CREDENTIAL_KEYS = (
    "url",
    "token",
    "org_key",
    "ssl_verify",
    "ssl_verify_hostname",
    "ssl_cert_file",
    "ssl_force_tls_1_2",
    "proxy",
    "ignore_system_proxy",
    "integration",
    "csp_oauth_app_id",
    "csp_oauth_app_secret",
    "csp_api_token",
    "csp_url_override",
    "default_timeout",
)

BOOLEAN_KEYS = ("ssl_verify", "ssl_verify_hostname", "ssl_force_tls_1_2", "ignore_system_proxy")

INTEGER_KEYS = ("default_timeout",)

# default_timeout (milliseconds) is clamped to this value, as the SDK does.
MAX_DEFAULT_TIMEOUT = 300000

SDK_DEFAULTS = {
    "url": None,
    "token": None,
    "org_key": None,
    "ssl_verify": True,
    "ssl_verify_hostname": True,
    "ssl_cert_file": None,
    "ssl_force_tls_1_2": False,
    "proxy": None,
    "ignore_system_proxy": False,
    "integration": None,
    "csp_oauth_app_id": None,
    "csp_oauth_app_secret": None,
    "csp_api_token": None,
    "csp_url_override": "https://console.cloud.vmware.com",
    "default_timeout": MAX_DEFAULT_TIMEOUT,
}

PRODUCTS = ("cbc", "response", "protection")

# Keys returned by the legacy cbapi FileCredentialStore (its ``default_profile``): the connection keys the
# SDK also has (the first nine of CREDENTIAL_KEYS, in the same order), then cbapi's RabbitMQ settings.
LEGACY_KEYS = CREDENTIAL_KEYS[:CREDENTIAL_KEYS.index("ignore_system_proxy") + 1] + (
    "rabbitmq_user",
    "rabbitmq_pass",
    "rabbitmq_host",
    "rabbitmq_port",
)

LEGACY_SECRET_KEYS = ("token", "rabbitmq_pass")

# cbapi keeps these as strings and converts the boolean words afterwards;
# rabbitmq_port stays the integer 5004 unless a file sets it.
LEGACY_DEFAULTS = {
    "url": None,
    "token": None,
    "org_key": None,
    "ssl_verify": "True",
    "ssl_verify_hostname": "True",
    "ssl_cert_file": None,
    "ssl_force_tls_1_2": "False",
    "proxy": None,
    "ignore_system_proxy": "False",
    "rabbitmq_user": "cb",
    "rabbitmq_pass": None,
    "rabbitmq_host": "localhost",
    "rabbitmq_port": 5004,
}

# cbapi's EnvarCredentialStore reads these (CBAPI_ORG_KEY too, but it never reaches the credentials).
LEGACY_ENVIRONMENT_VARIABLES = (
    ("url", "CBAPI_URL"),
    ("token", "CBAPI_TOKEN"),
    ("ssl_verify", "CBAPI_SSL_VERIFY"),
)

# Environment variables read by the SDK's EnvironCredentialProvider; the CBC_
# name wins over the CBAPI_ name, variable by variable.
ENVIRONMENT_VARIABLES = (
    ("url", ("CBC_URL", "CBAPI_URL")),
    ("token", ("CBC_TOKEN", "CBAPI_TOKEN")),
    ("org_key", ("CBC_ORG_KEY", "CBAPI_ORG_KEY")),
    ("ssl_verify", ("CBC_SSL_VERIFY", "CBAPI_SSL_VERIFY")),
)

# Environment variables read by the modules (settings.resolve_settings), below task arguments and profiles.
# Unlike the SDK, an empty (or blank) variable counts as unset, because AWX / AAP credential types inject every
# variable of the type, empty when its input is empty. The four SDK variables keep their CBAPI_ fallback (CBC_
# wins, variable by variable); every other credential key is read from CBC_<KEY>.
MODULE_ENVIRONMENT_VARIABLES = ENVIRONMENT_VARIABLES + (
    ("ssl_verify_hostname", ("CBC_SSL_VERIFY_HOSTNAME",)),
    ("ssl_cert_file", ("CBC_SSL_CERT_FILE",)),
    ("ssl_force_tls_1_2", ("CBC_SSL_FORCE_TLS_1_2",)),
    ("proxy", ("CBC_PROXY",)),
    ("ignore_system_proxy", ("CBC_IGNORE_SYSTEM_PROXY",)),
    ("integration", ("CBC_INTEGRATION",)),
    ("csp_oauth_app_id", ("CBC_CSP_OAUTH_APP_ID",)),
    ("csp_oauth_app_secret", ("CBC_CSP_OAUTH_APP_SECRET",)),
    ("csp_api_token", ("CBC_CSP_API_TOKEN",)),
    ("csp_url_override", ("CBC_CSP_URL_OVERRIDE",)),
    ("default_timeout", ("CBC_DEFAULT_TIMEOUT",)),
)

_BOOLEAN_WORDS = {
    "1": True, "yes": True, "on": True, "true": True,
    "0": False, "no": False, "off": False, "false": False,
}

_BOOLEAN_HINT = "use one of true/false, yes/no, on/off, 1/0 (any case)"

_FUTURE_NOTICE = ("Security warning: A future version of CBC SDK will disallow access to "
                  "the following files altogether unless their permissions are updated.")
_WINDOWS_NOTICES = ("Security warning: Windows file access to CBC SDK credentials is inherently insecure",
                    "A future version of CBC SDK will default to using a registry-based credentials provider.")

# Section name used to read [DEFAULT] as an ordinary section when tracking
# which file set which key.
_NO_DEFAULT_SECTION = "\x00carbonblack.cloud\x00"

_UNSET = object()


class CredentialError(CbcConfigError):
    """A credential profile cannot be found, read or converted."""


# --------------------------------------------------------------------------
# Value conversion (SDK ``Credentials._set_value`` rules)
# --------------------------------------------------------------------------

def _boolean_or_unset(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return _BOOLEAN_WORDS.get(value.lower(), _UNSET)
    return _UNSET


def _integer_or_unset(value):
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return _UNSET
    return _UNSET


def _show(value):
    """Quote a non-secret value on one line."""
    return repr(value) if isinstance(value, str) else "'%s'" % (value,)


def parse_boolean(value, key):
    """Convert a credential value to bool with the SDK's rules.

    ``bool`` is kept, an ``int`` is true when non-zero, and the strings
    1/yes/on/true and 0/no/off/false are accepted in any case. Anything else
    raises CredentialError naming ``key``.
    """
    result = _boolean_or_unset(value)
    if result is _UNSET:
        raise CredentialError("Invalid boolean value %s for credential '%s': %s." % (_show(value), key, _BOOLEAN_HINT))
    return result


def parse_integer(value, key):
    """Convert a credential value to int with the SDK's rules (``int`` kept, strings through ``int()``)."""
    result = _integer_or_unset(value)
    if result is _UNSET:
        raise CredentialError("Invalid integer value %s for credential '%s': use a whole number such as 300000." % (_show(value), key))
    return result


# --------------------------------------------------------------------------
# Search path
# --------------------------------------------------------------------------

def _file_names(product):
    if product == "cbc":
        return ("credentials.psc", "credentials.cbc")
    return ("credentials.%s" % product,)


def _check_product(product):
    if product not in PRODUCTS:
        raise CredentialError("Unknown product %s: use one of %s." % (_show(product), ", ".join(PRODUCTS)))


def default_search_path(product="cbc"):
    """Return the default credential files in reading order (a later file wins per key).

    ``~`` and the current directory are resolved now, so a changed HOME or
    working directory is honoured.
    """
    _check_product(product)
    if product == "cbc" and sys.platform.startswith("win32"):
        system_dir = os.path.join(os.environ.get("windir", "C:\\Windows"), "carbonblack")
    else:
        system_dir = os.path.join(os.sep, "etc", "carbonblack")
    directories = (
        system_dir,
        os.path.join(os.path.expanduser("~"), ".carbonblack"),
        os.path.join(os.getcwd(), ".carbonblack"),
    )
    return [os.path.join(directory, name) for directory in directories for name in _file_names(product)]


def _search_path(credential_file, product):
    if credential_file is None:
        return default_search_path(product)
    if isinstance(credential_file, (list, tuple)):
        entries = list(credential_file)
    else:
        entries = [credential_file]
    paths = []
    for entry in entries:
        if not isinstance(entry, (str, os.PathLike)):
            raise CredentialError("credential_file must be a path or a list of paths, got %s." % type(entry).__name__)
        # The SDK wraps every entry in pathlib.Path, which normalises it ("./a//b" -> "a/b").
        paths.append(str(Path(entry)) if product == "cbc" else os.fspath(entry))
    return paths


# --------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------

def _permission_problem(path):
    """Return the SDK's failure text for the first failing permission check, or None."""
    uid = os.geteuid()
    parent = str(Path(path).parent)
    try:
        parent_stat = os.stat(parent)
        if parent_stat.st_uid != uid:
            return "Directory %s not owned by current user" % parent
        if (parent_stat.st_mode & 0o577) != 0o500:
            return "Directory %s has invalid permissions" % parent
        file_stat = os.stat(path)
    except OSError:
        return None
    if file_stat.st_uid != uid:
        return "File %s not owned by current user" % path
    if (file_stat.st_mode & 0o577) != 0o400:
        return "File %s has invalid permissions" % path
    return None


def _existing_files(paths, warn, check_permissions):
    """Keep the regular files among ``paths``; emit the SDK's security warnings for them."""
    notice_pending = True
    files = []
    for path in paths:
        if not os.path.isfile(path):
            continue
        files.append(path)
        if not check_permissions:
            continue
        if sys.platform.startswith("win32"):
            if notice_pending:
                for text in _WINDOWS_NOTICES:
                    warn(text)
                notice_pending = False
            continue
        problem = _permission_problem(path)
        if problem:
            if notice_pending:
                warn(_FUTURE_NOTICE)
                notice_pending = False
            warn("Security warning: " + problem)
    return files


def _read_text(path):
    """Return the text of ``path``, decoded after its byte order mark like the SDK does."""
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(5)
        if prefix.startswith(codecs.BOM_UTF8):
            encoding = "utf_8_sig"
        elif prefix.startswith(codecs.BOM_UTF16_LE):
            encoding = "utf_16_le"
        elif prefix.startswith(codecs.BOM_UTF16_BE):
            encoding = "utf_16_be"
        else:
            encoding = "utf_8"
        with open(path, "rt", encoding=encoding) as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise CredentialError("Cannot read credential file %s: it is not valid %s text (byte %d); save it as UTF-8."
                              % (path, encoding.replace("_", "-").upper(), exc.start))
    except OSError as exc:
        raise CredentialError("Cannot read credential file %s: %s; make it readable by the user running the task."
                              % (path, exc.strerror or exc.__class__.__name__))
    if encoding.startswith("utf_16") and text.startswith("\ufeff"):
        text = text[1:]
    return text


def _parse_error(exc, path):
    """One-line explanation of a configparser read error; never echoes file content."""
    where = "Cannot read credential file %s: " % path
    line = getattr(exc, "lineno", None)
    at_line = " (line %s)" % line if line else ""
    if isinstance(exc, configparser.DuplicateSectionError):
        return where + "section [%s] appears twice in this file%s; merge the two sections into one." % (exc.section, at_line)
    if isinstance(exc, configparser.DuplicateOptionError):
        return where + "key '%s' appears twice in section [%s]%s; keep only one of them." % (exc.option, exc.section, at_line)
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return where + "line %s comes before any section header; start the file with a profile header such as [default]." % exc.lineno
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(number) for number, dummy in exc.errors)
        return where + "line(s) %s are not 'key = value' pairs; write each setting as key = value (or key: value) or remove the line." % lines
    return where + "%s; check the INI syntax." % exc.__class__.__name__


def _read_files(parser, files, track_sources):
    """Read ``files`` into ``parser`` in order; return [(path, per-file parser)] for source tracking."""
    sources = []
    for path in files:
        text = _read_text(path)
        try:
            parser.read_file(io.StringIO(text), source=path)
        except configparser.Error as exc:
            raise CredentialError(_parse_error(exc, path))
        if track_sources:
            # [DEFAULT] is read as an ordinary section here, so per-file keys stay apart.
            single = configparser.RawConfigParser(default_section=_NO_DEFAULT_SECTION, strict=False)
            single.read_file(io.StringIO(text), source=path)
            sources.append((path, single))
    return sources


def _source_of(key, profile, sources):
    for path, single in reversed(sources):
        if single.has_section(profile) and single.has_option(profile, key):
            return "set in %s" % path
    for path, single in reversed(sources):
        if single.has_section(configparser.DEFAULTSECT) and single.has_option(configparser.DEFAULTSECT, key):
            return "set in the [DEFAULT] section of %s" % path
    return "set in %s" % ", ".join(path for path, dummy in sources)


def _missing_profile(profile, parser, files, paths):
    sections = parser.sections()
    text = "Credential profile %s not found in %s (searched: %s)." % (_show(profile), ", ".join(files), ", ".join(paths))
    similar = [name for name in sections if name.lower() == profile.lower()]
    if similar:
        text += " Section names are case-sensitive: did you mean [%s]?" % similar[0]
    elif sections:
        text += " Add a [%s] section or use one of the profiles found: %s." % (profile, ", ".join(sections))
    else:
        text += " Add a [%s] section with url, token and org_key." % profile
    return text


def _interpolation_problem(exc, key, profile, source):
    where = "Cannot use the value of '%s' in credential profile %s (%s): " % (key, _show(profile), source)
    if isinstance(exc, configparser.InterpolationSyntaxError):
        reason = "it contains a '%' that is not followed by '%' or '('"
    elif isinstance(exc, configparser.InterpolationMissingOptionError):
        reason = "it contains a %(name)s reference to a key that does not exist"
    elif isinstance(exc, configparser.InterpolationDepthError):
        reason = "its %(name)s references nest too deeply"
    else:
        reason = "%%-interpolation failed (%s)" % exc.__class__.__name__
    return where + reason + "; credential files use %-interpolation, so write a literal percent sign as '%%'."


# --------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------

def _load_cbc(profile, paths, fill_defaults, warn):
    files = _existing_files(paths, warn, check_permissions=True)
    if not files:
        raise CredentialError("No credential file found for credential profile %s: none of these files exist: %s. "
                              "Create one (mode 0600, directory 0700) or set credential_file."
                              % (_show(profile), ", ".join(paths) or "(empty list)"))
    parser = configparser.ConfigParser()
    sources = _read_files(parser, files, track_sources=True)
    if not parser.has_section(profile):
        raise CredentialError(_missing_profile(profile, parser, files, paths))

    # The SDK evaluates every key of the section (unknown keys too), so an
    # interpolation error anywhere in the requested profile fails it.
    raw = {}
    for key in parser.options(profile):
        try:
            raw[key] = parser.get(profile, key)
        except configparser.InterpolationError as exc:
            raise CredentialError(_interpolation_problem(exc, key, profile, _source_of(key, profile, sources)))

    result = {}
    for key in CREDENTIAL_KEYS:
        if key not in raw:
            if fill_defaults:
                result[key] = SDK_DEFAULTS[key]
            continue
        value = raw[key]
        if key in BOOLEAN_KEYS:
            value = _boolean_or_unset(value)
            if value is _UNSET:
                raise CredentialError("Invalid boolean value %s for '%s' in credential profile %s (%s): %s."
                                      % (_show(raw[key]), key, _show(profile), _source_of(key, profile, sources), _BOOLEAN_HINT))
        elif key in INTEGER_KEYS:
            value = _integer_or_unset(value)
            if value is _UNSET:
                raise CredentialError("Invalid integer value %s for '%s' in credential profile %s (%s): "
                                      "use a whole number of milliseconds, at most %d."
                                      % (_show(raw[key]), key, _show(profile), _source_of(key, profile, sources), MAX_DEFAULT_TIMEOUT))
            if value > MAX_DEFAULT_TIMEOUT:
                value = MAX_DEFAULT_TIMEOUT
        result[key] = value
    return result


def _legacy_value(key, value):
    """cbapi ``Credentials``: a boolean word of a boolean key becomes a bool, anything else stays as written."""
    if key in BOOLEAN_KEYS and isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.lower()]
    return value


def _load_legacy(profile, paths, fill_defaults):
    files = _existing_files(paths, None, check_permissions=False)
    searched = ", ".join(paths) or "(empty list)"
    if not files:
        raise CredentialError("Cannot find credential profile %s after searching in these files: %s (none of them exist). "
                              "Create one or set credential_file." % (_show(profile), searched))
    parser = configparser.RawConfigParser()
    _read_files(parser, files, track_sources=False)
    if not parser.has_section(profile):
        raise CredentialError("Cannot find credential profile %s after searching in these files: %s (found: %s). "
                              "Add a [%s] section (names are case-sensitive)." % (_show(profile), searched, ", ".join(files), profile))
    present = dict(parser.items(profile))
    result = {}
    for key in LEGACY_KEYS:
        if key in present:
            value = present[key]
        elif fill_defaults:
            value = LEGACY_DEFAULTS[key]
        else:
            continue
        result[key] = _legacy_value(key, value)
    if fill_defaults and (not result["url"] or not result["token"]):
        raise CredentialError("Token and/or URL not available for credential profile %s in %s: add url and token to the [%s] section."
                              % (_show(profile), ", ".join(files), profile))
    return result


def _ignore_warning(dummy_text):
    return None


def load_profile(profile=None, credential_file=None, product="cbc", fill_defaults=True, warn=None):
    """Return the settings of one credential profile as a dict.

    ``product`` ``cbc`` follows the CBC SDK and returns the 15 ``CREDENTIAL_KEYS``
    (converted, defaults filled unless ``fill_defaults`` is false, in which case
    only the keys set in the profile or in [DEFAULT] are returned).
    ``response`` and ``protection`` follow legacy cbapi's ``FileCredentialStore`` and return ``LEGACY_KEYS``;
    cbapi's environment override is not applied here (see ``legacy_environment_credentials``).

    ``credential_file`` is None (default search path), a path, or a list of
    paths read in order, a later file winning per key. ``warn`` is called with
    each permission warning the SDK would log.
    """
    _check_product(product)
    if warn is None:
        warn = _ignore_warning
    if product == "cbc":
        if profile is None:
            profile = "default"
    else:
        profile = profile or "default"
    if not isinstance(profile, str):
        raise CredentialError("The credential profile name must be a string, got %s." % type(profile).__name__)
    paths = _search_path(credential_file, product)
    if product == "cbc":
        return _load_cbc(profile, paths, fill_defaults, warn)
    return _load_legacy(profile, paths, fill_defaults)


def legacy_environment_credentials(credential_file=None, environ=None):
    """Return the credentials cbapi takes from the environment, or None when cbapi reads the credential files.

    cbapi's ``CredentialStoreFactory.getCredentialStore`` uses its ``EnvarCredentialStore`` instead of every
    credential file when no ``credential_file`` is given and both ``CBAPI_URL`` and ``CBAPI_TOKEN`` are non-empty
    (not stripped: a blank value counts as set). That store ignores the profile name and returns ``url``, ``token``
    and ``ssl_verify`` (``CBAPI_SSL_VERIFY``, default true; a boolean word becomes a bool, anything else is kept as
    written) with cbapi's defaults for every other key of ``LEGACY_KEYS``; ``CBAPI_ORG_KEY`` is not used, so
    ``org_key`` stays None. The product name plays no part.
    """
    if credential_file is not None:
        return None
    if environ is None:
        environ = os.environ
    values = dict(LEGACY_DEFAULTS, ssl_verify=True)
    for key, name in LEGACY_ENVIRONMENT_VARIABLES:
        if name in environ:
            values[key] = environ[name]
    if not values["url"] or not values["token"]:
        return None
    return dict((key, _legacy_value(key, values[key])) for key in LEGACY_KEYS)


def environment_credentials(environ=None):
    """Return url, token, org_key and ssl_verify from CBC_* / CBAPI_* variables (only those that are set).

    Exactly the SDK's EnvironCredentialProvider: an empty variable is a value (an empty CBC_TOKEN hides
    CBAPI_TOKEN, an empty CBC_SSL_VERIFY is an error). The modules read ``environment_settings`` instead.
    """
    if environ is None:
        environ = os.environ
    result = {}
    for key, names in ENVIRONMENT_VARIABLES:
        for name in names:
            if name not in environ:
                continue
            value = environ[name]
            if key == "ssl_verify":
                converted = _boolean_or_unset(value)
                if converted is _UNSET:
                    raise CredentialError("Invalid boolean value %s in environment variable %s: %s." % (_show(value), name, _BOOLEAN_HINT))
                value = converted
            result[key] = value
            break
    return result


def environment_settings(environ=None):
    """Return the credential keys set by environment variables, as the modules read them.

    ``MODULE_ENVIRONMENT_VARIABLES`` names the variables. An empty or blank variable counts as unset (so an empty
    ``CBC_TOKEN`` falls back to ``CBAPI_TOKEN``, and an empty boolean is no error); booleans take the SDK's words
    (true/false, yes/no, on/off, 1/0, any case) and ``default_timeout`` a whole number. A bad value raises
    CredentialError naming the variable; secrets are never quoted.
    """
    if environ is None:
        environ = os.environ
    result = {}
    for key, names in MODULE_ENVIRONMENT_VARIABLES:
        for name in names:
            value = environ.get(name)
            if value is None or not value.strip():
                continue
            if key in BOOLEAN_KEYS:
                converted = _boolean_or_unset(value.strip())
                if converted is _UNSET:
                    raise CredentialError("environment variable %s is %s, not a boolean. Fix: set it to true or false "
                                          "(yes/no, on/off, 1/0), or leave it empty for the default" % (name, _show(value)))
                value = converted
            elif key in INTEGER_KEYS:
                converted = _integer_or_unset(value.strip())
                if converted is _UNSET:
                    raise CredentialError("environment variable %s is %s, not a whole number. Fix: set it to a number of "
                                          "milliseconds such as 300000, or leave it empty for the default" % (name, _show(value)))
                value = converted
            result[key] = value
            break
    return result
