# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cbc_forwarder and cbc_forwarder_info in real ansible-playbook runs against the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest
import yaml

from inprocess import run_tasks
from playbook_runner import FULL_TOKEN, REPO_ROOT, api_key_connection, collections_root, run_playbook

READ_ONLY_TOKEN = "FORWARDERREADSECRET00000/FORWARDERREAD"
AZURE = dict(destination="azure_blob_storage", azure_storage_account="acmecbc", azure_container_name="hits",
             azure_tenant_id="tenant-1", azure_client_id="client-1")


def forwarder_task(sim, token=FULL_TOKEN, **options):
    return {"carbonblack.cloud.cbc_forwarder": dict(api_key_connection(sim, token), **options)}


def info_task(sim, **options):
    return {"carbonblack.cloud.cbc_forwarder_info": dict(api_key_connection(sim), **options)}


def writes(entries):
    return [entry for entry in entries if entry["write"]]


def apis(entries):
    return [entry["api"] for entry in entries]


S3_ALERTS = dict(name="alerts-to-s3", type="alert", s3_bucket_name="acme-cbc", s3_prefix="alerts",
                 version_constraint="2.0.0")


def test_create_rerun_update_disable_delete(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, **S3_ALERTS),
        forwarder_task(sim, **S3_ALERTS),
    ])
    entries = sim.requests(since=mark)
    assert apis(entries) == ["forwarders.list", "forwarders.create", "forwarders.list"]
    assert writes(entries)[0]["body"] == dict(S3_ALERTS, destination="aws_s3")
    assert writes(entries)[0]["status"] == 201
    stored = sim.forwarders()
    assert len(stored) == 1 and stored[0]["s3_bucket_name"] == "acme-cbc" and stored[0]["enabled"] is True
    assert run[0]["changed"] is True and run[0]["action"] == "created"
    assert run[0]["forwarder"]["id"] == stored[0]["id"] and run[0]["forwarder"]["current_version"] == "2.0.0"
    # idempotence: the second task only read
    assert run[1]["changed"] is False and run[1]["action"] == "none" and run[1]["requests_sent"] == 1

    config_id = stored[0]["id"]
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="alerts-to-s3", s3_prefix="alerts-v2"),
        forwarder_task(sim, name="alerts-to-s3", enabled=False),
        forwarder_task(sim, name="alerts-to-s3", enabled=False),
    ])
    sent = writes(sim.requests(since=mark))
    assert [entry["api"] for entry in sent] == ["forwarders.update", "forwarders.update"]
    assert all(entry["path"].endswith("/configs/" + config_id) for entry in sent)
    # full-object PUT: unstated fields are sent unchanged
    assert sent[0]["body"] == dict(S3_ALERTS, s3_prefix="alerts-v2", destination="aws_s3", enabled=True)
    assert sent[1]["body"]["enabled"] is False and sent[1]["body"]["s3_prefix"] == "alerts-v2"
    assert run[0]["changes"] == {"before": {"s3_prefix": "alerts"}, "after": {"s3_prefix": "alerts-v2"}}
    assert run[1]["forwarder"]["enabled"] is False and run[2]["changed"] is False
    stored = sim.forwarders()
    assert len(stored) == 1 and stored[0]["enabled"] is False and stored[0]["s3_prefix"] == "alerts-v2"
    assert stored[0]["update_time"] > stored[0]["create_time"]

    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="alerts-to-s3", state="absent"),
        forwarder_task(sim, name="alerts-to-s3", state="absent"),
    ])
    entries = sim.requests(since=mark)
    assert apis(writes(entries)) == ["forwarders.delete"] and writes(entries)[0]["status"] == 204
    assert run[0]["changed"] is True and run[0]["action"] == "deleted" and run[0]["forwarder"]["id"] == config_id
    assert run[1]["changed"] is False and run[1]["action"] == "none"
    assert sim.forwarders() == []


def test_check_mode_and_diff_send_no_write(sim, tmp_path):
    mark = sim.mark()
    run = run_playbook(tmp_path, [forwarder_task(sim, **S3_ALERTS)], args=["--check", "--diff"])
    assert writes(sim.requests(since=mark)) == [] and sim.forwarders() == []
    assert run[0]["changed"] is True and run[0]["action"] == "created"
    assert run[0]["forwarder"] == dict(S3_ALERTS, destination="aws_s3", id=None)
    assert run[0]["diff"]["before"] == {} and run[0]["diff"]["after"] == dict(S3_ALERTS, destination="aws_s3")
    assert '"s3_bucket_name": "acme-cbc"' in run.stdout  # the diff callback printed it

    created = run_playbook(tmp_path, [forwarder_task(sim, **S3_ALERTS)])[0]["forwarder"]
    mark = sim.mark()
    run = run_playbook(tmp_path, [
        forwarder_task(sim, name="alerts-to-s3", enabled=False, s3_bucket_name="acme-cbc", s3_prefix="new"),
        forwarder_task(sim, name="alerts-to-s3", state="absent"),
    ], args=["--check", "--diff"])
    assert writes(sim.requests(since=mark)) == []
    # only the stated fields that differ; bucket is stated but equal
    assert run[0]["diff"]["before"] == {"enabled": True, "s3_prefix": "alerts"}
    assert run[0]["diff"]["after"] == {"enabled": False, "s3_prefix": "new"}
    assert run[0]["forwarder"]["enabled"] is False and run[0]["forwarder"]["id"] == created["id"]
    assert run[0]["forwarder"]["update_time"] == created["update_time"]
    assert run[1]["changed"] is True and run[1]["diff"]["after"] == {}
    assert run[1]["diff"]["before"]["name"] == "alerts-to-s3"
    assert sim.forwarders()[0]["enabled"] is True


def test_misconfigured_bucket_is_one_clear_line_and_nothing_is_created(sim, tmp_path):
    sim.forwarder_settings(misconfigured_buckets=["acme-cbc/alerts"], region="eu-central-1")
    mark = sim.mark()
    other_prefix = dict(S3_ALERTS)
    other_prefix["s3_prefix"] = "other"
    run = run_tasks(tmp_path, [forwarder_task(sim, **S3_ALERTS), forwarder_task(sim, **other_prefix)])
    assert run[0]["failed"] is True and run[0]["http_status"] == 400
    message = run[0]["msg"]
    assert "\n" not in message
    assert "S3 bucket 'acme-cbc' under prefix 'alerts'" in message
    assert "region eu-central-1" in message
    assert "s3:PutObject" in message and "arn:aws:s3:::acme-cbc/alerts/*" in message
    assert "healthcheck" in message
    # only that prefix is misconfigured: the second task creates it
    assert run[1]["changed"] is True
    assert [entry["status"] for entry in writes(sim.requests(since=mark))] == [400, 201]
    assert [config["s3_prefix"] for config in sim.forwarders()] == ["other"]

    # an update that moves to the bad prefix fails the same way and changes nothing
    run = run_tasks(tmp_path, [forwarder_task(sim, name="alerts-to-s3", s3_prefix="alerts")])
    assert run[0]["failed"] is True and "under prefix 'alerts'" in run[0]["msg"]
    assert sim.forwarders()[0]["s3_prefix"] == "other"


def test_bad_input_is_rejected_before_any_request(sim, tmp_path):
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="x", type="alerts", s3_bucket_name="b"),
        forwarder_task(sim, name="x", type="endpoint.event", **AZURE),
        forwarder_task(sim, name="x", type="alert", destination="aws_s3"),
        forwarder_task(sim, name="x", type="alert", s3_bucket_name="b", azure_client_id="c"),
        forwarder_task(sim, name="x", type="alert", s3_bucket_name="b", version_constraint="2"),
        forwarder_task(sim, name="x", type="alert", destination="azure_blob_storage", azure_storage_account="a"),
        forwarder_task(sim, type="alert", s3_bucket_name="b"),
    ])
    assert sim.requests(since=mark) == []
    assert all(run[index]["failed"] for index in range(7))
    assert "value of type must be one of: alert, auth.event, endpoint.event, watchlist.hit, got: alerts" in run[0]["msg"]
    assert "endpoint.event cannot be forwarded to Azure" in run[1]["msg"]
    assert "destination is aws_s3 but all of the following are missing: s3_bucket_name" in run[2]["msg"]
    assert "required together" in run[3]["msg"]
    assert "version_constraint must be a version (1.0.0)" in run[4]["msg"]
    assert "azure_container_name" in run[5]["msg"]
    assert "one of the following is required: name, id" in run[6]["msg"]


def test_create_needs_type_and_type_cannot_change(sim, tmp_path):
    run_tasks(tmp_path, [forwarder_task(sim, **S3_ALERTS)])
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="new-one", s3_bucket_name="b"),
        forwarder_task(sim, name="alerts-to-s3", type="watchlist.hit"),
        forwarder_task(sim, id="00000000-0000-0000-0000-000000000000", name="n", type="alert", s3_bucket_name="b"),
    ])
    assert writes(sim.requests(since=mark)) == []
    assert "needs type" in run[0]["msg"]
    assert "the type of a forwarder cannot be changed" in run[1]["msg"] and "state: absent" in run[1]["msg"]
    assert "no data forwarder has id 00000000-0000-0000-0000-000000000000" in run[2]["msg"]


def test_duplicate_names_list_ids_and_id_renames(sim, tmp_path):
    first = sim.add_forwarder(name="dup", type="alert", destination="aws_s3", s3_bucket_name="b1", enabled=True)
    second = sim.add_forwarder(name="dup", type="alert", destination="aws_s3", s3_bucket_name="b2", enabled=True)
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="dup", enabled=False),
        forwarder_task(sim, id=second["id"], name="dup"),
        forwarder_task(sim, id=second["id"], name="renamed"),
        forwarder_task(sim, name="dup", enabled=False),
    ])
    assert run[0]["failed"] is True and first["id"] in run[0]["msg"] and second["id"] in run[0]["msg"]
    assert run[1]["changed"] is False
    assert run[2]["changed"] is True, run[2]
    assert run[2]["changes"] == {"before": {"name": "dup"}, "after": {"name": "renamed"}}
    assert run[3]["changed"] is True
    sent = writes(sim.requests(since=mark))
    assert [entry["path"].rsplit("/", 1)[1] for entry in sent] == [second["id"], first["id"]]
    names = dict((config["id"], (config["name"], config["enabled"])) for config in sim.forwarders())
    assert names == {first["id"]: ("dup", False), second["id"]: ("renamed", True)}


def test_missing_create_permission_is_a_403_naming_it(sim, tmp_path):
    mark = sim.mark()
    run = run_playbook(tmp_path, [forwarder_task(sim, token=READ_ONLY_TOKEN, **S3_ALERTS)], args=["-vvv"])
    assert run[0]["failed"] is True and run[0]["http_status"] == 403
    assert "event-forwarder.settings CREATE" in run[0]["msg"]
    assert [(entry["api"], entry["status"]) for entry in sim.requests(since=mark)] == [
        ("forwarders.list", 200), ("forwarders.create", 403)]
    assert sim.forwarders() == []
    run.assert_no_secret("FORWARDERREADSECRET00000")


@pytest.mark.parametrize("shape", ["array", "results"])
def test_both_list_shapes(sim, tmp_path, shape):
    existing = sim.add_forwarder(name="legacy", type="endpoint.event", s3_bucket_name="old-bucket", s3_prefix="ep",
                                 enabled=True, version_constraint="1.0.0")
    sim.forwarder_settings(list_shape=shape)
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        info_task(sim),
        # a config without 'destination' (made before Azure support) counts as aws_s3
        forwarder_task(sim, name="legacy", type="endpoint.event", destination="aws_s3", s3_bucket_name="old-bucket",
                       s3_prefix="ep"),
        forwarder_task(sim, name="legacy", enabled=False),
    ])
    entries = sim.requests(since=mark)
    assert run[0]["forwarders"] == [existing]
    assert run[1]["changed"] is False
    assert run[2]["changed"] is True
    assert apis(writes(entries)) == ["forwarders.update"]
    assert sim.forwarders()[0]["enabled"] is False


def test_azure_forwarders_are_created_with_the_managed_identity_and_no_secret(sim, tmp_path):
    task = dict(AZURE, name="hits-to-azure", type="watchlist.hit")
    mark = sim.mark()
    run = run_playbook(tmp_path, [
        forwarder_task(sim, **task),
        forwarder_task(sim, **task),
        forwarder_task(sim, azure_client_secret="s3cr3t-value", **task),
    ], args=["--diff"])
    entries = sim.requests(since=mark)
    assert apis(writes(entries)) == ["forwarders.create"]
    assert writes(entries)[0]["body"] == dict(task)
    assert [run[index]["changed"] for index in range(2)] == [True, False]
    # The option is gone: CBC's Azure setup has no client secret.
    assert run[2]["failed"] and "azure_client_secret" in run[2]["msg"]
    stored = sim.forwarders()[0]
    assert all(stored[key] == value for key, value in task.items())


def test_info_filters_and_health_check(sim, tmp_path):
    run_tasks(tmp_path, [forwarder_task(sim, **S3_ALERTS),
                         forwarder_task(sim, name="events", type="endpoint.event", s3_bucket_name="ev")])
    sim.forwarder_settings(misconfigured_buckets=["ev"])
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        info_task(sim),
        info_task(sim, health_check=True),
        info_task(sim, name="events", health_check=True),
        info_task(sim, name="nope"),
    ])
    entries = sim.requests(since=mark)
    assert writes(entries) == []
    assert sorted(config["name"] for config in run[0]["forwarders"]) == ["alerts-to-s3", "events"]
    assert all("health_check" not in config for config in run[0]["forwarders"])
    health = dict((config["name"], config["health_check"]) for config in run[1]["forwarders"])
    assert health["alerts-to-s3"]["healthy"] is True and health["events"]["healthy"] is False
    assert "Access Denied" in health["events"]["message"]
    assert run[1]["requests_sent"] == 3
    assert [config["name"] for config in run[2]["forwarders"]] == ["events"] and run[2]["requests_sent"] == 2
    assert run[3]["forwarders"] == []
    assert apis(entries).count("forwarders.health_check") == 3


def test_forwarders_playbook_applies_definitions_from_vars(sim, tmp_path):
    extra = {
        "cbc_connection": api_key_connection(sim),
        "cbc_forwarders": [
            dict(S3_ALERTS),
            {"name": "events", "type": "endpoint.event", "s3_bucket_name": "ev", "s3_prefix": "endpoint"},
            {"name": "gone", "state": "absent"},
        ],
    }
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(yaml.safe_dump(extra))
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith("CBC_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_root(str(tmp_path / "collections")),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1", HOME=str(tmp_path))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               os.path.join(REPO_ROOT, "playbooks", "forwarders.yml"), "-e", "@" + str(vars_file),
               "-e", "ansible_python_interpreter=" + sys.executable]
    for attempt in range(2):
        mark = sim.mark()
        process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
        sent = writes(sim.requests(since=mark))
        if attempt == 0:
            assert apis(sent) == ["forwarders.create", "forwarders.create"]
        else:
            assert sent == []
    assert sorted(config["name"] for config in sim.forwarders()) == ["alerts-to-s3", "events"]


def test_filters_version_constraints_and_auth_events(sim, tmp_path):
    linux_only = [{"attribute": "device_os", "equals": ["LINUX"]}]
    events = dict(name="events", type="endpoint.event", s3_bucket_name="ev", filters=linux_only,
                  version_constraint="1.*.*")
    no_filter = dict(events)
    no_filter["filters"] = []
    bad_version = dict(events)
    bad_version["version_constraint"] = "2.0.0"
    auth = dict(name="auth", type="auth.event", s3_bucket_name="ev", s3_prefix="auth", version_constraint="1.0.*")
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, **events),
        forwarder_task(sim, **events),
        forwarder_task(sim, **no_filter),
        forwarder_task(sim, **no_filter),
        forwarder_task(sim, **bad_version),
        forwarder_task(sim, **auth),
        forwarder_task(sim, **auth),
    ])
    sent = writes(sim.requests(since=mark))
    assert [entry["api"] for entry in sent] == ["forwarders.create", "forwarders.update", "forwarders.update",
                                                "forwarders.create"]
    assert [entry["status"] for entry in sent] == [201, 200, 400, 201]
    assert sent[0]["body"]["filters"] == linux_only and sent[0]["body"]["version_constraint"] == "1.*.*"
    assert sent[1]["body"]["filters"] == []
    assert [run[index]["changed"] for index in range(4)] == [True, False, True, False]
    assert run[2]["changes"] == {"before": {"filters": linux_only}, "after": {"filters": []}}
    # a value the API refuses is its own 400, not a bucket problem
    assert run[4]["failed"] is True and run[4]["http_status"] == 400
    assert "version_constraint '2.0.0' is not available for type endpoint.event" in run[4]["msg"]
    assert "bucket policy" not in run[4]["msg"]
    assert run[5]["changed"] is True and run[6]["changed"] is False
    stored = dict((config["name"], config) for config in sim.forwarders())
    assert "filters" not in stored["events"] and stored["events"]["version_constraint"] == "1.*.*"
    assert stored["events"]["current_version"] == "1.1.0"
    assert stored["auth"]["type"] == "auth.event" and stored["auth"]["current_version"] == "1.0.0"


def test_an_update_keeps_filters_set_in_the_console(sim, tmp_path):
    console_filters = [{"attribute": "alert.severity", "equals": ["7", "8"]}]
    sim.add_forwarder(name="alerts", type="alert", destination="aws_s3", s3_bucket_name="b", s3_prefix="",
                      enabled=True, version_constraint="1.0.0", filters=console_filters)
    mark = sim.mark()
    run = run_tasks(tmp_path, [forwarder_task(sim, name="alerts", enabled=False)])
    sent = writes(sim.requests(since=mark))
    assert run[0]["changed"] is True and len(sent) == 1
    assert sent[0]["body"]["filters"] == console_filters
    assert not set(sent[0]["body"]) & {"id", "org_key", "create_time", "update_time", "current_version"}
    stored = sim.forwarders()[0]
    assert stored["enabled"] is False and stored["filters"] == console_filters


def test_a_404_list_is_no_forwarders_only_when_the_org_answers_elsewhere(sim, tmp_path):
    sim.forwarder_settings(empty_list_status=404)
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, name="gone", state="absent"),
        info_task(sim),
        {"carbonblack.cloud.cbc_forwarder": dict(api_key_connection(sim), org_key="WRONG123", name="gone",
                                                 state="absent")},
    ])
    entries = sim.requests(since=mark)
    assert run[0]["changed"] is False and run[0]["action"] == "none" and run[0]["requests_sent"] == 2
    assert run[1]["forwarders"] == []
    assert run[2]["failed"] and "org_key WRONG123" in run[2]["msg"] and "Fix: check org_key and url" in run[2]["msg"]
    assert apis(entries) == ["forwarders.list", "devices.search"] * 3
    assert writes(entries) == []


HITS = dict(name="hits-to-s3", type="watchlist.hit", s3_bucket_name="acme-cbc", s3_prefix="hits")


def test_a_list_of_forwarders_is_one_list_request_then_its_writes_and_a_rerun_writes_nothing(sim, tmp_path):
    legacy = sim.add_forwarder(name="legacy", type="alert", destination="aws_s3", s3_bucket_name="old")
    declared = [dict(S3_ALERTS), dict(HITS)]
    mark = sim.mark()
    preview = run_playbook(tmp_path, [forwarder_task(sim, forwarders=declared, purge=True)], args=["--check", "--diff"])
    assert writes(sim.requests(since=mark)) == [] and [f["name"] for f in sim.forwarders()] == ["legacy"]
    assert [(entry["name"], entry["action"], entry["purged"]) for entry in preview[0]["results"]] == [
        ("alerts-to-s3", "created", False), ("hits-to-s3", "created", False), ("legacy", "deleted", True)]

    mark = sim.mark()
    run = run_tasks(tmp_path, [forwarder_task(sim, forwarders=declared, purge=True),
                               forwarder_task(sim, forwarders=declared, purge=True)])
    entries = sim.requests(since=mark)
    assert apis(entries) == ["forwarders.list", "forwarders.create", "forwarders.create", "forwarders.delete",
                             "forwarders.list"]
    assert entries[3]["path"].endswith("/configs/" + legacy["id"])
    assert run[0]["changed"] is True and [entry["changed"] for entry in run[0]["results"]] == [True, True, True]
    assert run[0]["results"][0]["forwarder"]["id"] is not None
    assert run[1]["changed"] is False and run[1]["requests_sent"] == 1
    assert [entry["action"] for entry in run[1]["results"]] == ["none", "none"]
    assert sorted(f["name"] for f in sim.forwarders()) == ["alerts-to-s3", "hits-to-s3"]


NEVER = dict(name="never-sent", type="alert", s3_bucket_name="acme-cbc", s3_prefix="never")


def test_a_failure_part_way_through_a_list_says_what_was_done(sim, tmp_path):
    sim.forwarder_settings(misconfigured_buckets=["acme-cbc/hits"])
    mark = sim.mark()
    run = run_tasks(tmp_path, [forwarder_task(sim, forwarders=[dict(S3_ALERTS), dict(HITS), NEVER])])
    assert run[0]["failed"] is True and "under prefix 'hits'" in run[0]["msg"]
    assert [(entry["name"], entry["action"]) for entry in run[0]["results"]] == [("alerts-to-s3", "created")]
    assert run[0]["changed"] is True
    assert [entry["status"] for entry in writes(sim.requests(since=mark))] == [201, 400]
    assert [f["name"] for f in sim.forwarders()] == ["alerts-to-s3"]


def test_a_list_is_checked_whole_before_the_first_write(sim, tmp_path):
    sim.add_forwarder(name="typed", type="alert", destination="aws_s3", s3_bucket_name="b")
    mark = sim.mark()
    run = run_tasks(tmp_path, [
        forwarder_task(sim, forwarders=[dict(S3_ALERTS), {"name": "typed", "type": "watchlist.hit"}]),
        forwarder_task(sim, forwarders=[dict(S3_ALERTS), {"name": "new-one", "s3_bucket_name": "b"}]),
        forwarder_task(sim, purge=True, name="typed"),
    ])
    assert writes(sim.requests(since=mark)) == []
    assert "forwarders[1] (typed): data forwarder 'typed'" in run[0]["msg"] and "cannot be changed" in run[0]["msg"]
    assert "needs type" in run[1]["msg"]
    assert "purge needs forwarders" in run[2]["msg"]
    assert [f["name"] for f in sim.forwarders()] == ["typed"]
