# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cbc_credentials
author:
  - carbonblack.cloud contributors (@carbonblack)
version_added: 1.0.0
short_description: Read Carbon Black Cloud credential profiles on the controller
description:
  - Reads one or more credential profiles from Carbon Black Cloud SDK credential files on the Ansible controller
    and returns each profile as a dictionary.
  - For O(product=cbc) the files are read exactly like C(carbon-black-cloud-sdk) does. The default search path is
    C(/etc/carbonblack), then C(~/.carbonblack), then C(./.carbonblack) (relative to the current working directory),
    with C(credentials.psc) read before C(credentials.cbc) in each directory. Every file that exists is read and a
    later file wins key by key.
  - Files use INI syntax with C(%)-interpolation, so a literal percent sign must be written as C(%%).
    Section (profile) names are case-sensitive, keys are not, and a C([DEFAULT]) section applies to every profile.
  - The boolean keys accept C(true/false), C(yes/no), C(on/off) and C(1/0) in any case, C(default_timeout) is an
    integer of milliseconds capped at 300000.
  - Like the SDK, a warning is shown when a credential file or its directory can be read by other users
    (use mode C(0600) for files and C(0700) for directories). The file is still used.
  - Only the requested profiles are converted, so an invalid value in another profile does not cause an error.
  - For the on-premises products, O(product=edr) (CB EDR, cbapi's V(response)) and O(product=app_control)
    (CB App Control, cbapi's V(protection)), the legacy C(cbapi) rules apply. The files are
    C(credentials.response) or C(credentials.protection) in the same three directories, read without
    interpolation and without a permission check.
  - Like cbapi, for O(product=edr) and O(product=app_control) the environment wins over the files. When
    O(credential_file) is not set and the controller's environment variables E(CBAPI_URL) and E(CBAPI_TOKEN) are
    both non-empty, no file is read. Every requested profile then returns the same credentials, taken from
    E(CBAPI_URL), E(CBAPI_TOKEN) and E(CBAPI_SSL_VERIFY) (default V(true)), with cbapi's defaults for all other
    keys (E(CBAPI_ORG_KEY) is ignored, as cbapi does). Set O(credential_file) to read a file anyway.
options:
  _terms:
    description:
      - Names of the credential profiles to read.
      - When no name is given, the profile V(default) is read.
    type: list
    elements: str
    required: false
  credential_file:
    description:
      - Credential file, or list of credential files, to read instead of the default search path.
      - Files are read in the order given and a later file wins key by key. Files that do not exist are skipped.
      - For O(product=edr) and O(product=app_control), setting it also turns off the E(CBAPI_URL)/E(CBAPI_TOKEN)
        environment override, as in cbapi.
      - A leading C(~) is expanded to the home directory of the user running Ansible on the controller.
    type: list
    elements: str
  product:
    description:
      - Which credential format to read.
      - V(cbc) reads Carbon Black Cloud credentials (C(credentials.psc)/C(credentials.cbc)) like the CBC SDK.
      - V(edr) reads the legacy C(credentials.response) files of Carbon Black EDR (CB Response) like cbapi, and
        V(app_control) the C(credentials.protection) files of Carbon Black App Control (CB Protection). These are
        the product names of the modules' O(product) option.
      - V(response) and V(protection), cbapi's names, are accepted as aliases of V(edr) and V(app_control).
    type: str
    default: cbc
    choices:
      - cbc
      - edr
      - app_control
      - response
      - protection
notes:
  - The lookup runs on the controller and reads the controller's files, not the managed host's.
  - The result contains secrets (V(token), V(csp_oauth_app_secret), V(csp_api_token)). Use C(no_log) on tasks
    that show them.
seealso:
  - name: Carbon Black Cloud SDK authentication
    description: How credential files are written for the CBC SDK.
    link: https://carbon-black-cloud-python-sdk.readthedocs.io/en/latest/authentication/
"""

EXAMPLES = r"""
- name: Read the default profile
  ansible.builtin.set_fact:
    cbc: "{{ lookup('carbonblack.cloud.cbc_credentials') }}"
  no_log: true

- name: Read two profiles from an explicit file
  ansible.builtin.set_fact:
    cbc_profiles: "{{ query('carbonblack.cloud.cbc_credentials', 'prod', 'lab', credential_file='~/secrets/credentials.cbc') }}"
  no_log: true

- name: Merge two files, the second one wins key by key
  ansible.builtin.debug:
    msg: "{{ lookup('carbonblack.cloud.cbc_credentials', 'prod', credential_file=['/etc/cbc/base.cbc', '~/.cbc/override.cbc']).url }}"

- name: Read a legacy CB EDR profile (CBAPI_URL and CBAPI_TOKEN win when both are set)
  ansible.builtin.set_fact:
    edr: "{{ lookup('carbonblack.cloud.cbc_credentials', 'default', product='edr') }}"
  no_log: true

- name: Read a CB App Control profile from a file, whatever the environment says
  ansible.builtin.set_fact:
    app_control: "{{ lookup('carbonblack.cloud.cbc_credentials', 'lab', product='app_control', credential_file='~/.carbonblack/credentials.protection') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One dictionary per requested profile, in the order of the terms.
    - For O(product=cbc) every dictionary has exactly the keys listed below, with the SDK's defaults filled in.
    - For O(product=edr) and O(product=app_control) the keys are V(url), V(token), V(org_key), V(ssl_verify),
      V(ssl_verify_hostname), V(ssl_cert_file), V(ssl_force_tls_1_2), V(proxy), V(ignore_system_proxy),
      V(rabbitmq_user), V(rabbitmq_pass), V(rabbitmq_host) and V(rabbitmq_port), with cbapi's defaults;
      boolean words are converted to booleans and any other value is returned as written.
  type: list
  elements: dict
  contains:
    url:
      description: Base URL of the Carbon Black Cloud console, for example V(https://defense-prod05.conferdeploy.net).
      type: str
    token:
      description: API key as C(API_SECRET_KEY/API_ID). Secret.
      type: str
    org_key:
      description: Organization key.
      type: str
    ssl_verify:
      description: Whether the server certificate is verified.
      type: bool
      sample: true
    ssl_verify_hostname:
      description: Whether the certificate host name is verified.
      type: bool
      sample: true
    ssl_cert_file:
      description: CA bundle file used when C(ssl_verify) is true.
      type: str
    ssl_force_tls_1_2:
      description: Whether TLS 1.2 is forced.
      type: bool
      sample: false
    proxy:
      description: Proxy URL.
      type: str
    ignore_system_proxy:
      description: Whether system proxy settings are ignored.
      type: bool
      sample: false
    integration:
      description: Integration name put in front of the User-Agent.
      type: str
    csp_oauth_app_id:
      description: CSP OAuth app ID.
      type: str
    csp_oauth_app_secret:
      description: CSP OAuth app secret. Secret.
      type: str
    csp_api_token:
      description: CSP API token. Secret.
      type: str
    csp_url_override:
      description: CSP base URL.
      type: str
      sample: https://console.cloud.vmware.com
    default_timeout:
      description: Timeout of asynchronous searches in milliseconds, at most 300000.
      type: int
      sample: 300000
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.carbonblack.cloud.plugins.module_utils.credentials import (
    CredentialError,
    legacy_environment_credentials,
    load_profile,
)

# The modules' product names and the cbapi product (credential file suffix) each one reads.
LEGACY_PRODUCTS = {"edr": "response", "app_control": "protection", "response": "response", "protection": "protection"}


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        # A single path is accepted as a string; wrap it so a comma in the path is not split.
        credential_file = kwargs.get("credential_file")
        if isinstance(credential_file, (str, bytes)):
            kwargs["credential_file"] = [credential_file]

        self.set_options(var_options=variables, direct=kwargs)
        product = LEGACY_PRODUCTS.get(self.get_option("product"), "cbc")
        files = self.get_option("credential_file")
        if files is not None:
            files = [os.path.expanduser(to_native(name)) for name in files]
        profiles = [to_text(term) for term in (terms or ["default"])]

        if product != "cbc":
            # cbapi's CredentialStoreFactory: the environment replaces every file and every profile.
            environment = legacy_environment_credentials(credential_file=files)
            if environment is not None:
                self._display.vvv("cbc_credentials: CBAPI_URL and CBAPI_TOKEN are set, so they are used instead of the "
                                  "credentials.%s profiles, as cbapi does" % product)
                return [dict(environment) for dummy in profiles]

        shown = []

        def warn(text):
            # Every profile re-reads the files: show each warning once per lookup.
            if text not in shown:
                shown.append(text)
                self._display.warning(text)

        results = []
        for profile in profiles:
            try:
                results.append(load_profile(profile, credential_file=files, product=product, warn=warn))
            except CredentialError as exc:
                raise AnsibleLookupError(to_native(exc))
        return results
