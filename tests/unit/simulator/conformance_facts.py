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
MOCK_ALERTS_COMPAT = "src/tests/unit/fixtures/platform/mock_alert_v6_v7_compatibility.py"
MOCK_JOBS = "src/tests/unit/fixtures/platform/mock_jobs.py"
MOCK_REPUTATION = "src/tests/unit/fixtures/platform/mock_reputation_override.py"
TEST_ALERTS_V7 = "src/tests/unit/platform/test_alertsv7_api.py"
TEST_REPUTATION = "src/tests/unit/platform/test_reputation_overrides.py"
JOB_MODEL = "src/cbc_sdk/platform/models/job.yaml"
REPUTATION_MODEL = "src/cbc_sdk/platform/models/reputation_override.yaml"

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

# --- reputation overrides --------------------------------------------------------------------------------
# mock_reputation_override.py REPUTATION_OVERRIDE_SHA256_RESPONSE is the recorded SHA256 override (GET and the
# create answer); the CERT and IT_TOOL fields come from reputation_override.yaml (types) and the SDK's UAT
# src/tests/uat/reputation_override_uat.py (which fields each type sends). A type's fields appear only on
# overrides of that type, so they are optional here.

REPUTATION_OVERRIDE = {
    "id": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE (32 hex characters)
    "created_by": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE
    "create_time": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE (ISO, milliseconds, Z)
    "description?": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE; optional in the create body (yaml, UAT)
    "override_list": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE; yaml enum BLACK_LIST, WHITE_LIST
    "override_type": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE; yaml enum SHA256, CERT, IT_TOOL
    "sha256_hash?": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE (SHA256 only)
    "filename?": STR,  # REPUTATION_OVERRIDE_SHA256_RESPONSE (SHA256 only)
    "signed_by?": STR,  # yaml signed_by: string (CERT only)
    "certificate_authority?": STR,  # yaml certificate_authority: string (CERT only)
    "path?": STR,  # yaml path: string (IT_TOOL only)
    "include_child_processes?": BOOL,  # yaml include_child_processes: boolean (IT_TOOL only)
}

REPUTATION_OVERRIDE_SEARCH_PAGE = {  # mock_reputation_override.py REPUTATION_OVERRIDE_SHA256_SEARCH_RESPONSE
    "num_found": INT,
    "results": [REPUTATION_OVERRIDE],
}

# Not a recording: test_reputation_overrides.py test_reputation_override_bulk_delete mocks the answer of
# POST .../_delete as {"results": <the ids sent>, "errors": []}; the item shape of errors is not shown.
REPUTATION_OVERRIDE_BULK_DELETE = {
    "results": [STR],
    "errors": "array",
}

# --- alerts v7 ---------------------------------------------------------------------------------------------
# Two recorded v7 alerts give the exact key sets: a WATCHLIST alert, mock_alerts_v7.py
# ALERT_SEARCH_RESPONSE["results"][0] (the recorded _search answer; MOST_RECENT_ALERT has the same keys), and a
# CB_ANALYTICS alert, mock_alert_v6_v7_compatibility.py GET_ALERT_v7_CB_ANALYTICS_RESPONSE (a recorded GET). A
# type given there is the recorded one; a second type in a tuple comes from another v7 recording, named.

ALERT_WORKFLOW = {  # ALERT_SEARCH_RESPONSE["results"][0]["workflow"]; GET_ALERT_v7_CB_ANALYTICS_RESPONSE["workflow"]
    "change_timestamp": STR,
    "changed_by_type": STR,
    "changed_by": STR,
    "closure_reason": STR,
    "status": STR,
}

ALERT_DETERMINATION = {  # ALERT_SEARCH_RESPONSE["results"][0]["determination"]
    "change_timestamp": STR,
    "value": STR,
    "changed_by_type": STR,
    "changed_by": STR,
}

ALERT_COMMON = {  # the keys both recordings have, in recorded order
    "org_key": STR,
    "alert_url": STR,
    "id": STR,
    "type": STR,
    "backend_timestamp": STR,
    "user_update_timestamp": (STR, NULL),  # null in ALERT_SEARCH_RESPONSE, "" in GET_ALERT_v7_CB_ANALYTICS_RESPONSE
    "backend_update_timestamp": STR,
    "detection_timestamp": STR,
    "first_event_timestamp": STR,
    "last_event_timestamp": STR,
    "severity": INT,
    "reason": STR,
    "reason_code": STR,
    "threat_id": STR,
    "primary_event_id": STR,
    "policy_applied": STR,
    "run_state": STR,
    "sensor_action": STR,
    "workflow": ALERT_WORKFLOW,
    "determination": (ALERT_DETERMINATION, NULL),  # null in the older mock_alerts_v7.py GET_ALERT_RESP
    "tags": (NULL, STR, [STR]),  # null in ALERT_SEARCH_RESPONSE, "" in the CB_ANALYTICS one, a list in GET_ALERT_RESP
    "alert_notes_present": BOOL,
    "threat_notes_present": BOOL,
    "is_updated": BOOL,
    "device_id": INT,
    "device_name": STR,
    "device_uem_id": STR,
    "device_target_value": STR,
    "device_policy": STR,
    "device_policy_id": INT,
    "device_os": STR,
    "device_os_version": STR,
    "device_username": STR,
    "device_location": STR,
    "device_external_ip": STR,
    "mdr_alert": BOOL,
    "mdr_alert_notes_present": BOOL,
    "mdr_threat_notes_present": BOOL,
    "process_guid": STR,
    "process_pid": INT,
    "process_name": STR,
    "process_sha256": STR,
    "process_md5": STR,
    "process_effective_reputation": STR,
    "process_reputation": STR,
    "process_cmdline": STR,
    "process_username": STR,
    "process_issuer": ([STR], STR),  # arrays in both; a string in GET_ALERT_RESP
    "process_publisher": ([STR], STR),  # arrays in both; a string in GET_ALERT_RESP
    "childproc_guid": STR,
    "childproc_username": STR,
    "childproc_cmdline": STR,
}

ALERT_V7_WATCHLIST = dict(ALERT_COMMON, **{  # ALERT_SEARCH_RESPONSE["results"][0] only
    "asset_id": NULL,  # null in ALERT_SEARCH_RESPONSE and MOST_RECENT_ALERT; its other type is not recorded
    "report_id": STR,
    "report_name": STR,
    "report_description": STR,
    "report_tags": [STR],  # [] there; strings in GET_ALERT_RESP
    "ioc_id": STR,
    "ioc_hit": STR,
    "watchlists": [{"id": STR, "name": STR}],
})

ALERT_V7_CB_ANALYTICS = dict(ALERT_COMMON, **{  # GET_ALERT_v7_CB_ANALYTICS_RESPONSE only
    "device_internal_ip": STR,
    "ttps": [STR],
    "attack_tactic": STR,
    "parent_guid": STR,
    "parent_pid": INT,
    "parent_name": STR,
    "parent_sha256": STR,
    "parent_md5": STR,
    "parent_effective_reputation": STR,
    "parent_reputation": STR,
    "parent_cmdline": (STR, NULL),  # null there; a string in GET_ALERT_v7_WATCHLIST_RESPONSE
    "parent_username": STR,
    "childproc_name": STR,
    "childproc_sha256": STR,
    "childproc_md5": STR,
    "childproc_effective_reputation": STR,
})

#: A v7 alert has the exact key set of one of the two recordings.
ALERT_V7 = (ALERT_V7_WATCHLIST, ALERT_V7_CB_ANALYTICS)

ALERT_SEARCH_PAGE = {  # mock_alerts_v7.py ALERT_SEARCH_RESPONSE
    "results": [ALERT_V7],
    "num_found": INT,
    "num_available": INT,
}

# Not a recording: test_alertsv7_api.py test_bulk_update_workflow and test_alert_update_workflow mock the
# answer of POST .../alerts/workflow as {"request_id": "666666"} (a string; the job id is that number).
ALERT_WORKFLOW_ANSWER = {
    "request_id": STR,
}

# --- jobs ------------------------------------------------------------------------------------------------
# mock_alerts_v7.py GET_CLOSE_WORKFLOW_JOB_RESP (and GET_OPEN_WORKFLOW_JOB_RESP, the same keys) is the recorded
# workflow job; mock_jobs.py _JOB1/_JOB2 (export jobs) have the same top-level keys with job_parameters.job_parameters
# null; job.yaml adds owner_id and errors, which no recording has.

WORKFLOW_JOB_PARAMETERS = {  # GET_CLOSE_WORKFLOW_JOB_RESP["job_parameters"]["job_parameters"]
    "request": OBJ,  # the workflow request body, echoed
    "userWorkflowDto": {
        "change_timestamp": STR,
        "changed_by_type": STR,
        "changed_by": STR,
        # Both recorded; the simulator leaves them out for a determination-only update (a choice).
        "closure_reason?": STR,
        "status?": STR,
    },
}

JOB_PROGRESS = {  # GET_CLOSE_WORKFLOW_JOB_RESP["progress"]; mock_jobs.py PROGRESS_2 (PROGRESS_1 has no message)
    "num_total": INT,
    "num_completed": INT,
    "message?": STR,
}

JOB = {  # GET_CLOSE_WORKFLOW_JOB_RESP (top level, in recorded order)
    "id": INT,
    "type": STR,
    "job_parameters": {"job_parameters": (WORKFLOW_JOB_PARAMETERS, NULL)},  # null in mock_jobs.py _JOB1
    "connector_id": STR,
    "org_key": STR,
    "status": STR,  # job.yaml enum CREATED, FAILED, COMPLETED
    "progress": JOB_PROGRESS,
    "create_time": STR,  # microseconds: 2023-10-18T13:19:02.000467Z
    "last_update_time": STR,
    "owner_id?": INT,  # job.yaml owner_id: integer (int64); in no recording
    "errors?": STR,  # job.yaml errors: string; in no recording
}

JOB_LIST = {  # mock_jobs.py FIND_ALL_JOBS_RESP (GET /jobs/v1/orgs/{org}/jobs)
    "num_found": INT,
    "results": [JOB],
}

#: Everything test_conformance.py checks, by response kind.
FACTS = {
    "reputation_override": REPUTATION_OVERRIDE,
    "reputation_override_search_page": REPUTATION_OVERRIDE_SEARCH_PAGE,
    "reputation_override_bulk_delete": REPUTATION_OVERRIDE_BULK_DELETE,
    "alert_v7": ALERT_V7,
    "alert_v7_watchlist": ALERT_V7_WATCHLIST,
    "alert_v7_cb_analytics": ALERT_V7_CB_ANALYTICS,
    "alert_search_page": ALERT_SEARCH_PAGE,
    "alert_workflow_answer": ALERT_WORKFLOW_ANSWER,
    "job": JOB,
    "job_progress": JOB_PROGRESS,
    "job_list": JOB_LIST,
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
