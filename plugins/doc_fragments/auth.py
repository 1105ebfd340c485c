# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The connection options every module shares. Their names are the official
    # SDK's credential keys, so a cbc_credentials lookup result can be used as
    # module_defaults as it is.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The CBC console host, for example C(https://defense-prod05.conferdeploy.net).
      - Must start with C(https://) and carry no path; modules add C(/{service}/{version}/orgs/{org_key}/...).
      - Falls back to the profile, then to E(CBC_URL), then E(CBAPI_URL).
    type: str
  org_key:
    description:
      - The organization key, without C(<>) or C({}) brackets.
      - Falls back to the profile, then to E(CBC_ORG_KEY), then E(CBAPI_ORG_KEY).
    type: str
  token:
    description:
      - API key as C(SECRET_KEY/API_ID), sent as C(X-Auth-Token). Takes precedence over the CSP options.
      - Falls back to the profile, then to E(CBC_TOKEN), then E(CBAPI_TOKEN).
    type: str
  csp_oauth_app_id:
    description:
      - Client ID of a VMware Cloud Services Platform OAuth app (client-credentials grant).
      - Used when neither O(token) nor O(csp_api_token) is set; needs O(csp_oauth_app_secret).
      - Falls back to the profile, then to E(CBC_CSP_OAUTH_APP_ID).
    type: str
  csp_oauth_app_secret:
    description:
      - Client secret of the CSP OAuth app.
      - Falls back to the profile, then to E(CBC_CSP_OAUTH_APP_SECRET).
    type: str
  csp_api_token:
    description:
      - A CSP personal API token, exchanged for an access token. Takes precedence over the OAuth app options.
      - Falls back to the profile, then to E(CBC_CSP_API_TOKEN).
    type: str
  csp_url_override:
    description:
      - Base URL of the Cloud Services Platform used for token exchanges.
      - Falls back to the profile, then to E(CBC_CSP_URL_OVERRIDE); defaults to C(https://console.cloud.vmware.com)
        when not set anywhere.
    type: str
  ssl_verify:
    description:
      - Verify the server's TLS certificate. Defaults to V(true) when not set anywhere.
      - When V(false), O(ssl_cert_file) is ignored.
      - Falls back to the profile, then to E(CBC_SSL_VERIFY), then E(CBAPI_SSL_VERIFY).
    type: bool
  ssl_verify_hostname:
    description:
      - Check that the certificate was issued for the host in O(url). Defaults to V(true) when not set anywhere.
      - Falls back to the profile, then to E(CBC_SSL_VERIFY_HOSTNAME).
    type: bool
  ssl_cert_file:
    description:
      - A PEM CA bundle to verify the server (and CSP) certificate with, instead of the system bundle.
      - Falls back to the profile, then to E(CBC_SSL_CERT_FILE).
    type: path
  ssl_force_tls_1_2:
    description:
      - Refuse TLS versions older than 1.2 (and their ciphers). Defaults to V(false) when not set anywhere.
      - Unlike the official SDK, this also works together with O(ssl_verify=false).
      - Falls back to the profile, then to E(CBC_SSL_FORCE_TLS_1_2).
    type: bool
  proxy:
    description:
      - Proxy URL for HTTP and HTTPS, for example C(http://proxy.example.com:3128). Without it the
        E(HTTPS_PROXY) and E(NO_PROXY) environment variables apply.
      - Falls back to the profile, then to E(CBC_PROXY).
    type: str
  ignore_system_proxy:
    description:
      - Ignore proxies from the environment and connect directly. Takes precedence over O(proxy), as in the SDK.
      - Falls back to the profile, then to E(CBC_IGNORE_SYSTEM_PROXY); defaults to V(false) when not set anywhere.
    type: bool
  integration:
    description:
      - Name and version of your integration, put first in the User-Agent, for example C(soc-automation/2.1).
      - Falls back to the profile, then to E(CBC_INTEGRATION).
    type: str
  default_timeout:
    description:
      - The SDK's polling timeout for asynchronous jobs, in milliseconds, 1 or more (at most 300000; larger values are
        clamped, as the SDK does).
      - Accepted so a profile can be passed through; it is not an HTTP timeout (see O(timeout)).
      - Falls back to the profile, then to E(CBC_DEFAULT_TIMEOUT).
    type: int
  profile:
    description:
      - Name of a credential profile to read on the host where the module runs, as the official SDK reads it
        (C(credentials.psc) then C(credentials.cbc) in C(/etc/carbonblack), C(~/.carbonblack), C(./.carbonblack)).
      - Task arguments override profile values; profile values override environment variables.
      - When no complete set of credentials is given by arguments or environment, the C(default) profile is read.
    type: str
  credential_file:
    description:
      - Credential file(s) to read instead of the default search path; later files win key by key.
    type: list
    elements: path
  timeout:
    description:
      - Seconds to wait for each HTTP attempt (connect and read), 1 to 3600.
      - Default 60; 120 for Carbon Black EDR (O(carbonblack.cloud.cbc_api_key_check#module:product=edr)), which is
        cbapi's default for EDR servers.
    type: int
  retries:
    description:
      - How many times one request is sent again after HTTP 429 (any request), after a connection that could not be
        made, or, for reads and searches only, after HTTP 500/502/503/504, a dropped connection or a read timeout.
        0 to 20.
      - A write whose answer was lost is never simply repeated. The module reads the server's state first and sends
        the write once more only when it was not applied (see the collection's C(docs/reliability.md)).
    type: int
    default: 5
  retry_max_wait:
    description:
      - Seconds one request may spend waiting between its retries in total (C(Retry-After), or backoff from 0.5 s
        doubling up to 8 s), 0 to 3600.
      - A C(Retry-After) longer than what is left fails at once, naming the wait asked for.
    type: int
    default: 60
  token_cache:
    description:
      - Reuse CSP access tokens across the tasks of a run through a per-user cache
        (C($XDG_CACHE_HOME/carbonblack.cloud/csp-tokens), else C(~/.cache/carbonblack.cloud/csp-tokens); directory
        mode 0700, files 0600, named by a SHA-256 of the credential set), so a playbook makes one token exchange per
        credential set for the token's lifetime.
      - Set V(false) to exchange a token in every task and write nothing to disk.
    type: bool
    default: true
notes:
  - Precedence of connection settings is task arguments (and C(module_defaults)) > credential profile > environment
    variables > the SDK's defaults.
  - Every connection option above that names an environment variable falls back to it (C(CBC_*) before C(CBAPI_*)). An
    empty variable counts as unset, as an AWX/AAP credential type injects every variable, empty when its input is
    empty; the collection's C(docs/awx.md) has a credential type that injects them.
  - All modules are in the action group C(carbonblack.cloud.cbc), so C(module_defaults) with
    C(group/carbonblack.cloud.cbc) sets the connection once for every task.
requirements:
  - requests
"""
