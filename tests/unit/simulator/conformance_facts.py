# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shape facts of real CBC API responses, written down by hand from the official SDK's recorded responses.

Source: the SDK repository github.com/carbonblack/carbon-black-cloud-sdk-python (read at commit fc0c2643,
release 1.5.10). Paths below are relative to that repository. The unit-test fixtures there are recorded
API responses; the models (``src/cbc_sdk/platform/models/*.yaml``) give the type of a field that the
fixtures only show as null. Only facts were taken (names, JSON types, nesting), no values.

Notation (read by test_conformance.py):

* a JSON type name: ``"string"``, ``"integer"``, ``"number"`` (integer or fraction), ``"boolean"``,
  ``"null"``, ``"object"`` (an object whose keys are not fixed), ``"array"`` (items not checked);
* a tuple: any of its alternatives, e.g. ``(STR, NULL)``; NULL is listed only where a recording has null;
* a list of one spec: an array whose every item matches that spec;
* a dict: an object with exactly these keys; a key ending in ``?`` may be absent. Any key the dict does
  not list is drift (the real response does not have it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STR = "string"
INT = "integer"
NUM = "number"
BOOL = "boolean"
NULL = "null"
OBJ = "object"

MOCK_DEVICES = "src/tests/unit/fixtures/platform/mock_devices.py"
MOCK_LR_DEVICE = "src/tests/unit/fixtures/live_response/mock_device.py"
MOCK_NSX = "src/tests/unit/fixtures/workload/mock_nsx_remediation.py"
MOCK_POLICIES = "src/tests/unit/fixtures/platform/mock_policies.py"
MOCK_RULECONFIGS = "src/tests/unit/fixtures/platform/mock_policy_ruleconfigs.py"
MOCK_ALERTS_V7 = "src/tests/unit/fixtures/platform/mock_alerts_v7.py"
DEVICE_MODEL = "src/cbc_sdk/platform/models/device.yaml"
POLICY_MODEL = "src/cbc_sdk/platform/models/policy.yaml"

# --- device object -------------------------------------------------------------------------------------
# Every key below is in mock_devices.py GET_DEVICE_RESP, GET_DEVICE_RESP_NO_VCENTER and
# POST_DEVICE_SEARCH_RESP["results"][0] (the same 95 keys in all three). A value that is not null there
# gives the type. "null there" marks a field that is null in all three; its other type then comes from
# device.yaml (or the source named). "null in LR" marks a field that is a string/array in mock_devices.py
# but null in a recorded Linux device without AV, live_response/mock_device.py DEVICE_RESPONSE and
# UDEVICE_RESPONSE (the same API, an older recording).

ASSET_GROUP = {  # mock_devices.py GET_DEVICE_RESP["asset_group"][*]
    "id": STR,
    "name": STR,
    "membership_type": STR,
}

DEVICE_META_DATA_ITEM = {  # mock_devices.py POST_DEVICE_SEARCH_RESP["results"][0]["device_meta_data_item_list"][*]
    "key_name": STR,
    "key_value": STR,
    "position": INT,
}

DEVICE = {
    "activation_code": (STR, NULL),  # null there; device.yaml activation_code: string
    "activation_code_expiry_time": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "ad_group_id": INT,  # GET_DEVICE_RESP
    "appliance_name": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "appliance_uuid": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "asset_group": [ASSET_GROUP],  # GET_DEVICE_RESP, device.yaml asset_group
    "av_ave_version": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "av_engine": STR,  # GET_DEVICE_RESP; "" (not null) in LR DEVICE_RESPONSE
    "av_last_scan_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "av_master": BOOL,  # GET_DEVICE_RESP
    "av_pack_version": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "av_product_version": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "av_status": ([STR], NULL),  # GET_DEVICE_RESP (array of strings); null in LR
    "av_update_servers": ([STR], NULL),  # null there; device.yaml: array of string
    "av_vdf_version": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "cluster_name": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "current_sensor_policy_name": STR,  # GET_DEVICE_RESP
    "datacenter_name": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "deployment_type": STR,  # GET_DEVICE_RESP
    "deregistered_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "device_meta_data_item_list": [DEVICE_META_DATA_ITEM],  # POST_DEVICE_SEARCH_RESP
    "device_owner_id": INT,  # GET_DEVICE_RESP
    "email": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "esx_host_name": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "esx_host_uuid": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "first_name": (STR, NULL),  # null there; device.yaml: string
    "id": INT,  # GET_DEVICE_RESP
    "last_contact_time": STR,  # GET_DEVICE_RESP
    "last_device_policy_changed_time": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "last_device_policy_requested_time": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "last_external_ip_address": STR,  # GET_DEVICE_RESP
    "last_internal_ip_address": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "last_location": STR,  # GET_DEVICE_RESP
    "last_name": (STR, NULL),  # null there; device.yaml: string
    "last_policy_updated_time": (STR, NULL),  # string in POST_DEVICE_SEARCH_RESP, null in GET_DEVICE_RESP
    "last_reported_time": STR,  # GET_DEVICE_RESP
    "last_reset_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "last_shutdown_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "linux_kernel_version": (STR, NULL),  # null there (Windows device); device.yaml: string
    "login_user_name": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "mac_address": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "middle_name": (STR, NULL),  # null there; device.yaml: string
    "name": STR,  # GET_DEVICE_RESP
    "organization_id": INT,  # GET_DEVICE_RESP
    "organization_name": STR,  # GET_DEVICE_RESP
    "os": STR,  # GET_DEVICE_RESP
    "os_version": STR,  # GET_DEVICE_RESP
    "passive_mode": BOOL,  # GET_DEVICE_RESP
    "policy_id": INT,  # GET_DEVICE_RESP
    "policy_name": STR,  # GET_DEVICE_RESP
    "policy_override": BOOL,  # GET_DEVICE_RESP
    "quarantined": BOOL,  # GET_DEVICE_RESP
    "registered_time": STR,  # GET_DEVICE_RESP
    "scan_last_action_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "scan_last_complete_time": (STR, NULL),  # null there; device.yaml: string (date-time)
    "scan_status": (STR, NULL),  # null there; device.yaml: string (enum)
    "sensor_kit_type": STR,  # GET_DEVICE_RESP
    "sensor_out_of_date": BOOL,  # GET_DEVICE_RESP
    "sensor_pending_update": BOOL,  # GET_DEVICE_RESP
    "sensor_states": [STR],  # GET_DEVICE_RESP
    "sensor_version": STR,  # GET_DEVICE_RESP
    "status": STR,  # GET_DEVICE_RESP
    "target_priority": STR,  # GET_DEVICE_RESP
    "uninstall_code": STR,  # GET_DEVICE_RESP
    "vcenter_name": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "vcenter_uuid": (STR, NULL),  # string in GET_DEVICE_RESP, null in GET_DEVICE_RESP_NO_VCENTER
    "vdi_base_device": (INT, NULL),  # null there; device.yaml: integer (int64)
    "virtual_machine": BOOL,  # GET_DEVICE_RESP
    "virtualization_provider": (STR, NULL),  # GET_DEVICE_RESP; null in LR
    "vm_ip": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "vm_name": (STR, NULL),  # null there; string in platform/mock_vulnerabilities.py (device list of that API)
    "vm_uuid": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "vuln_score": NUM,  # GET_DEVICE_RESP (0.0)
    "vuln_severity": (STR, NULL),  # null there; string assumed (not in device.yaml)
    "windows_platform": (STR, NULL),  # null there; device.yaml: string (enum CLIENT_X86...SERVER_X64)
    # Not in the recordings but allowed: fields of device.yaml (not required).
    "device_id?": INT,  # device.yaml device_id: integer
    "encoded_activation_code?": STR,  # device.yaml encoded_activation_code: string
    "target_priority_type?": STR,  # device.yaml target_priority_type: string; also in LR DEVICE_RESPONSE
    # Exceptions (neither in mock_devices.py nor in device.yaml), allowed with a reason: the SDK reads them
    # (src/cbc_sdk/platform/devices.py Device.nsx_available and Device.nsx_remediation use
    # self._info['nsx_enabled'] and self._info['nsx_distributed_firewall_policy']), and they are recorded in
    # workload/mock_nsx_remediation.py NSX_DEVICE_DATA_1 .. NSX_DEVICE_DATA_3A.
    "nsx_enabled?": BOOL,  # NSX_DEVICE_DATA_1 (true), NSX_DEVICE_DATA_3 (false)
    "nsx_distributed_firewall_policy?": (STR, NULL),  # NSX_DEVICE_DATA_1 (string), NSX_DEVICE_DATA_3 (null)
}

# --- device pages ----------------------------------------------------------------------------------------

DEVICE_SEARCH_PAGE = {  # mock_devices.py POST_DEVICE_SEARCH_RESP (POST .../devices/_search)
    "results": [DEVICE],
    "num_found": INT,
}

DEVICE_SCROLL_PAGE = {  # mock_devices.py GET_SCROLL_DEVICES(rows, num_found, num_remaining) (POST .../devices/_scroll)
    "org_key": STR,
    "num_found": INT,
    "search_after": STR,  # a cursor string, "" (not null) on the last page
    "results": [DEVICE],
}

# --- policy ----------------------------------------------------------------------------------------------
# mock_policies.py FULL_POLICY_1 is the recorded GET /policyservice/v1/orgs/{org}/policies/{id}.

POLICY_RULE = {  # FULL_POLICY_1["rules"][*]
    "id": INT,
    "required": BOOL,
    "action": STR,
    "application": {"type": STR, "value": STR},
    "operation": STR,
}

DIRECTORY_ACTION_RULE = {  # FULL_POLICY_1["directory_action_rules"][*]
    "file_upload": BOOL,
    "protection": BOOL,
    "path": STR,
}

SENSOR_SETTING = {  # FULL_POLICY_1["sensor_settings"][*]: every value is a string, also "true"/"0"
    "name": STR,
    "value": STR,
}

RULE_CONFIG = {  # FULL_POLICY_1["rule_configs"][*], mock_policy_ruleconfigs.py CORE_PREVENTION_RETURNS["results"][*]
    "id": STR,
    "name": STR,
    "description": STR,
    "inherited_from": STR,  # "" or "psc:region", never null
    "category": STR,
    "parameters": OBJ,  # keys depend on the config, see RULE_CONFIG_PARAMETERS
    "exclusions?": OBJ,  # bypass configs only: mock_policy_ruleconfigs.py BYPASS_RULE_CONFIGS["results"][1]
}

#: Parameter types per rule configuration: by id for the data_collection ones, by category for core_prevention.
RULE_CONFIG_PARAMETERS = {
    # mock_policy_ruleconfigs.py DATA_COLLECTION_RETURNS["results"][0] (Authentication Events)
    "91c919da-fb90-4e63-9eac-506255b0a0d0": {"enable_auth_events": BOOL},
    # mock_policy_ruleconfigs.py DATA_COLLECTION_RETURNS["results"][1] (XDR)
    "cc075469-8d1e-4056-84b6-0e6f437c4010": {"enable_network_data_collection": BOOL},
    # mock_policy_ruleconfigs.py CORE_PREVENTION_RETURNS["results"][*]
    "core_prevention": {"WindowsAssignmentMode": STR},
}

AV_SETTINGS = {  # FULL_POLICY_1["av_settings"]
    "avira_protection_cloud": {"enabled": BOOL, "max_exe_delay": INT, "max_file_size": INT, "risk_level": INT},
    "on_access_scan": {"enabled": BOOL, "mode": STR},
    "on_demand_scan": {
        "enabled": BOOL,
        "profile": STR,
        "schedule": {
            "start_hour": INT,
            "range_hours": INT,
            "recovery_scan_if_missed": BOOL,
            # absent in FULL_POLICY_1, null in FULL_POLICY_2, ["MONDAY", ...] in NEW_POLICY_RETURN_1
            "days?": ([STR], NULL),
        },
        "scan_usb": STR,
        "scan_cd_dvd": STR,
    },
    "signature_update": {
        "enabled": BOOL,
        "schedule": {"full_interval_hours": INT, "initial_random_delay_hours": INT, "interval_hours": INT},
    },
    "update_servers": {
        "servers_override": [STR],  # [] in FULL_POLICY_1; policy.yaml: array of string
        "servers_for_onsite_devices": [{"server": STR, "preferred": BOOL}],
        "servers_for_offsite_devices": [STR],
    },
}

POLICY = {  # mock_policies.py FULL_POLICY_1 (top level, in recorded order)
    "id": INT,
    "name": STR,
    "org_key": STR,
    "version": INT,
    "priority_level": STR,
    "position": INT,
    "is_system": BOOL,
    "description": STR,
    "auto_deregister_inactive_vdi_interval_ms": INT,
    "auto_delete_known_bad_hashes_delay": INT,
    "av_settings": AV_SETTINGS,
    "rules": [POLICY_RULE],
    "directory_action_rules": [DIRECTORY_ACTION_RULE],
    "sensor_settings": [SENSOR_SETTING],
    "rule_configs": [RULE_CONFIG],
    # Absent from FULL_POLICY_1 but in the recorded POST answer NEW_POLICY_RETURN_1 and in policy.yaml.
    "managed_detection_response_permissions?": {"policy_modification": BOOL, "quarantine": BOOL},
    # In the recorded FULL_POLICY_5 only (a newer backend); allowed, not required.
    "auto_deregister_inactive_vm_workloads_interval_ms?": INT,  # FULL_POLICY_5
    "update_time?": INT,  # FULL_POLICY_5 (epoch milliseconds)
    "sensor_configs?": "array",  # FULL_POLICY_5 ([])
}

POLICY_SUMMARY_ITEM = {  # mock_policies.py SUMMARY_POLICY_1, SUMMARY_POLICY_2, SUMMARY_POLICY_3
    "id": INT,
    "name": STR,
    "description": STR,
    "priority_level": STR,
    "position": INT,
    "is_system": BOOL,
    "num_devices": INT,
}

# The envelope is not a fixture variable: src/tests/unit/platform/test_policies.py (test_policy_summary...)
# mocks GET .../policies/summary as {"policies": [SUMMARY_POLICY_1, SUMMARY_POLICY_2, SUMMARY_POLICY_3]}.
POLICY_SUMMARY = {
    "policies": [POLICY_SUMMARY_ITEM],
}

# --- rule_configs sub-resource ---------------------------------------------------------------------------

RULE_CONFIG_GET = {  # mock_policy_ruleconfigs.py CORE_PREVENTION_RETURNS, DATA_COLLECTION_RETURNS, BYPASS_RULE_CONFIGS
    "results": [RULE_CONFIG],
}

RULE_CONFIG_FAILURE = {  # mock_policies.py SET_AUTH_EVENT_COLLECTION_RESPONSE_ERROR["failed"][*]
    "id": STR,
    "error_code": STR,
    "message": STR,
}

RULE_CONFIG_PUT = {  # mock_policy_ruleconfigs.py DATA_COLLECTION_UPDATE_RETURNS_1; mock_policies.py SET_XDR_COLLECTION_RESPONSE
    "successful": [RULE_CONFIG],
    "failed": [RULE_CONFIG_FAILURE],  # SET_AUTH_EVENT_COLLECTION_RESPONSE_ERROR
}

# --- error bodies ----------------------------------------------------------------------------------------
# The SDK records no 400/404 body of the device or policy APIs (for 404 it only passes the text on:
# src/cbc_sdk/connection.py raises ObjectNotFoundError(message=r.text)). The one recorded 4xx body of a
# platform API is mock_alerts_v7.py GET_ALERT_FACET_RESP_INVALID (a 400); its two general keys are required
# here, the enum-specific keys allowed. ASSUMPTION: device and policy errors use the same envelope.

ERROR = {
    "error_code": STR,  # GET_ALERT_FACET_RESP_INVALID
    "message": STR,  # GET_ALERT_FACET_RESP_INVALID
    "field?": STR,  # GET_ALERT_FACET_RESP_INVALID (enum errors only)
    "invalid_value?": STR,  # GET_ALERT_FACET_RESP_INVALID (enum errors only)
    "known_values?": [STR],  # GET_ALERT_FACET_RESP_INVALID (enum errors only)
    # A malformed query: src/cbc_sdk/connection.py raises QuerySyntaxError when a 400 body has
    # reason == "query_malformed_syntax" (also src/tests/unit/test_connection.py StubResponse({'reason': ...}, 400)).
    "reason?": STR,
}

# Data Forwarder v2 configs: the SDK has no forwarder module and no recording, so these come from the one real
# config record public sources show: a CBC audit-log entry "Updated Config: {...}" for
# PUT /data_forwarder/v2/orgs/A1234567/configs/<uuid> (id, org_key, name, enabled, type, s3_bucket_name, s3_prefix,
# create_time, update_time), and the fields an open-source operations script strips from newer configs
# (version_constraint, current_version, destination, azure_storage_account, azure_container_name,
# azure_tenant_id); ../shared/docs/cbc-api-facts.md section 5 cites both. azure_client_id is the documented
# Azure setup's client id; filters is v1's array, documented as kept by v2.
FORWARDER_CONFIG = {
    "id": STR,  # a UUID string
    "org_key": STR,
    "name": STR,
    "enabled": BOOL,
    "type": STR,
    "create_time": STR,  # RFC 3339, e.g. 2023-10-03T14:11:14Z
    "update_time": STR,
    "version_constraint?": STR,
    "current_version?": STR,
    "destination?": STR,
    "s3_bucket_name?": STR,
    "s3_prefix?": STR,
    "azure_storage_account?": STR,
    "azure_container_name?": STR,
    "azure_tenant_id?": STR,
    "azure_client_id?": STR,
    "filters?": "array",
}
#: The list is a bare array of configs (the operations script iterates the answer itself).
FORWARDER_LIST = [FORWARDER_CONFIG]

#: Everything test_conformance.py checks, by response kind.
FACTS = {
    "forwarder_config": FORWARDER_CONFIG,
    "forwarder_list": FORWARDER_LIST,
    "device": DEVICE,
    "device_search_page": DEVICE_SEARCH_PAGE,
    "device_scroll_page": DEVICE_SCROLL_PAGE,
    "policy": POLICY,
    "policy_summary": POLICY_SUMMARY,
    "rule_config_get": RULE_CONFIG_GET,
    "rule_config_put": RULE_CONFIG_PUT,
    "error": ERROR,
}
