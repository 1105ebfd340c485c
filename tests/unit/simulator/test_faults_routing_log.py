"""Unit tests of fault parsing/matching, the route table and the request-log redaction."""

import json

import pytest

from cbcsim.faults import FaultInjector, parse_fault_spec, rule_from_dict
from cbcsim.protocol import ApiError
from cbcsim.requestlog import RequestLog, redact
from cbcsim.server import build_api_routes


def test_parse_fault_spec():
    rule = parse_fault_spec("path=devices/_search,status=429,retry_after=1,count=3")
    assert (rule.status, rule.retry_after, rule.count, rule.drop) == (429, 1, 3, False)
    assert rule.body["error_code"] and rule.body["message"]
    assert rule.matches("POST", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert not rule.matches("POST", "/appservices/v6/orgs/ABCD1234/devices/_scroll")
    drop = parse_fault_spec("path=_scroll,method=post,drop")
    assert drop.drop and drop.matches("POST", "/x/_scroll") and not drop.matches("GET", "/x/_scroll")
    slow = parse_fault_spec("path=.*,latency_ms=250,name=slow")
    assert slow.latency_ms == 250 and slow.name == "slow"


@pytest.mark.parametrize("spec", ["path=x", "path=x,status=abc", "path=(,status=500", "status=700", "status=500,count=0",
                                  "path=x,status=500,drop", "status", "path=x,bogus=1,status=500", "drop=maybe"])
def test_bad_fault_specs(spec):
    with pytest.raises(ValueError):
        parse_fault_spec(spec)


def test_fault_counts_and_order():
    injector = FaultInjector()
    injector.add(rule_from_dict({"path": "_search", "status": 503, "count": 2}))
    injector.add(rule_from_dict({"path": "_search", "status": 500}))
    statuses = [injector.match("POST", "/devices/_search").status for unused_index in range(4)]
    assert statuses == [503, 503, 500, 500]
    assert injector.match("GET", "/devices/1") is None
    assert injector.clear() == 1 and injector.rules() == []
    custom = rule_from_dict({"path": "x", "status": 418, "body": {"error_code": "TEAPOT", "message": "short and stout"}})
    assert custom.body == {"error_code": "TEAPOT", "message": "short and stout"}


def test_route_table_404_405_and_labels():
    table = build_api_routes()
    route, params = table.resolve("POST", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert route.api == "devices.search" and params["org_key"] == "ABCD1234" and not route.write
    assert route.permission == "device:READ"
    route, params = table.resolve("GET", "/appservices/v6/orgs/ABCD1234/devices/123")
    assert route.api == "devices.get" and params["device_id"] == "123"
    assert table.resolve("GET", "/data_forwarder/v2/orgs/A/configs/")[0].permission == "event-forwarder.settings:READ"
    assert table.resolve("POST", "/api/alerts/v7/orgs/A/alerts/_search")[0].permission == "org.alerts:READ"
    assert table.resolve("GET", "/policyservice/v1/orgs/A/policies/summary")[0].permission == "org.policies:READ"
    with pytest.raises(ApiError) as info:
        table.resolve("GET", "/appservices/v6/orgs/ABCD1234/devices/_search")
    assert info.value.status == 405 and info.value.headers["Allow"] == "POST"
    with pytest.raises(ApiError) as info:
        table.resolve("GET", "/nothing/here")
    assert info.value.status == 404
    assert table.find_api("GET", "/nothing") is None


def test_redaction_and_secret_scrubbing(tmp_path):
    assert redact({"api_token": "x", "nested": [{"client_secret": "y", "ok": 1}], "rows": 2}) == \
        {"api_token": "***", "nested": [{"client_secret": "***", "ok": 1}], "rows": 2}
    log = RequestLog(str(tmp_path / "log.jsonl"), secrets=lambda: ["TOPSECRETVALUE", "ab"])
    log.write({"body": {"query": "name:TOPSECRETVALUE"}, "short": "ab"})
    log.close()
    line = json.loads((tmp_path / "log.jsonl").read_text())
    assert line == {"body": {"query": "name:***"}, "short": "ab"}
