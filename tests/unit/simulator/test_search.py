"""Unit tests of the simulator's search logic: criteria, exclusions, query, sort and paging."""

from datetime import datetime, timedelta, timezone

import pytest

from cbcsim.protocol import ApiError
from cbcsim.search import QuerySyntaxError, SearchRequest, compile_query, format_time

RECORDS = [
    {"id": 1, "name": "host-00001", "os": "LINUX", "status": "REGISTERED", "policy_id": 10, "sensor_states": ["ACTIVE"],
     "quarantined": False, "sensor_version": "2.14.0.1574", "last_contact_time": None},
    {"id": 2, "name": "host-00002", "os": "WINDOWS", "status": "REGISTERED", "policy_id": 11, "sensor_states": ["ACTIVE", "LIVE_RESPONSE_ENABLED"],
     "quarantined": True, "sensor_version": "3.9.1.2451", "last_contact_time": None},
    {"id": 3, "name": "db-server", "os": "LINUX", "status": "DEREGISTERED", "policy_id": 10, "sensor_states": [],
     "quarantined": False, "sensor_version": "2.13.0.1398", "last_contact_time": None},
    {"id": 4, "name": "mac-book", "os": "MAC", "status": "REGISTERED", "policy_id": 12, "sensor_states": ["ACTIVE"],
     "quarantined": False, "sensor_version": None, "last_contact_time": None},
]


def ids(body, records=None):
    """Return the ids selected by a search body (all pages)."""
    request = SearchRequest(body)
    return [record["id"] for record in request.page(request.select(records or RECORDS))]


def test_empty_body_matches_all_in_id_order():
    assert ids({}) == [1, 2, 3, 4]
    assert ids(None) == [1, 2, 3, 4]


def test_criteria_or_within_field_and_across_fields():
    assert ids({"criteria": {"os": ["LINUX", "MAC"]}}) == [1, 3, 4]
    assert ids({"criteria": {"os": ["LINUX", "MAC"], "status": ["REGISTERED"]}}) == [1, 4]
    assert ids({"criteria": {"os": ["linux"]}}) == [1, 3]


def test_criteria_numbers_lists_and_status_all():
    assert ids({"criteria": {"policy_id": [10]}}) == [1, 3]
    assert ids({"criteria": {"policy_id": ["11"]}}) == [2]
    assert ids({"criteria": {"sensor_states": ["LIVE_RESPONSE_ENABLED"]}}) == [2]
    assert ids({"criteria": {"status": ["ALL"]}}) == [1, 2, 3, 4]
    assert ids({"criteria": {"unknown_field": ["x"]}}) == []
    assert ids({"criteria": {"os": []}}) == []


def test_exclusions_negate_any_field():
    assert ids({"exclusions": {"os": ["LINUX"]}}) == [2, 4]
    assert ids({"exclusions": {"os": ["MAC"], "status": ["DEREGISTERED"]}}) == [1, 2]
    assert ids({"criteria": {"os": ["LINUX"]}, "exclusions": {"sensor_version": ["2.13.0.1398"]}}) == [1]


def test_malformed_criteria_are_rejected():
    for body in ({"criteria": {"os": "LINUX"}}, {"criteria": []}, {"exclusions": {"os": 1}}):
        with pytest.raises(ApiError) as info:
            SearchRequest(body)
        assert info.value.status == 400


def test_time_range_criteria():
    now = datetime.now(timezone.utc)
    records = [
        {"id": 1, "last_contact_time": format_time(now - timedelta(hours=2))},
        {"id": 2, "last_contact_time": format_time(now - timedelta(days=3))},
        {"id": 3, "last_contact_time": None},
    ]
    assert ids({"criteria": {"last_contact_time": {"range": "-1d"}}}, records) == [1]
    assert ids({"criteria": {"last_contact_time": {"range": "-1w"}}}, records) == [1, 2]
    start = format_time(now - timedelta(days=4))
    end = format_time(now - timedelta(days=1))
    assert ids({"criteria": {"last_contact_time": {"start": start, "end": end}}}, records) == [2]
    for bad in ({"range": "3 days"}, {"range": "-1d", "start": start}, {"start": "yesterday"}, {}):
        with pytest.raises(ApiError):
            SearchRequest({"criteria": {"last_contact_time": bad}})


@pytest.mark.parametrize("query, expected", [
    ("os:LINUX", [1, 3]),
    ("os:linux AND status:REGISTERED", [1]),
    ("os:LINUX status:REGISTERED", [1]),
    ("os:MAC OR os:WINDOWS", [2, 4]),
    ("os:LINUX AND status:REGISTERED OR os:MAC", [1, 4]),
    ("os:LINUX AND (status:REGISTERED OR os:MAC)", [1]),
    ("NOT os:LINUX", [2, 4]),
    ("-os:LINUX", [2, 4]),
    ("host", [1, 2]),
    ("server", [3]),
    ("name:host-*", [1, 2]),
    ('name:"db-server"', [3]),
    ("sensor_version:2.1*", [1, 3]),
    ("quarantined:true", [2]),
    ("id:4", [4]),
    ("sensor_states:LIVE_RESPONSE_ENABLED", [2]),
    ("", [1, 2, 3, 4]),
])
def test_query_subset(query, expected):
    assert ids({"query": query}) == expected


@pytest.mark.parametrize("query", ["(os:LINUX", "os:LINUX)", "os:", ":LINUX", "os:LINUX AND", "OR os:LINUX", 'name:"open', "()"])
def test_query_syntax_errors(query):
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    assert info.value.status == 400
    assert info.value.to_response().body["reason"] == "query_malformed_syntax"


def test_sort_orders_with_nulls_last():
    assert ids({"sort": [{"field": "name", "order": "ASC"}]}) == [3, 1, 2, 4]
    assert ids({"sort": [{"field": "name", "order": "desc"}]}) == [4, 2, 1, 3]
    assert ids({"sort": [{"field": "sensor_version", "order": "DESC"}]}) == [2, 1, 3, 4]
    assert ids({"sort": [{"field": "os"}, {"field": "id", "order": "DESC"}]}) == [3, 1, 4, 2]
    with pytest.raises(ApiError):
        SearchRequest({"sort": [{"field": "name", "order": "UP"}]})
    with pytest.raises(ApiError):
        SearchRequest({"sort": {"field": "name"}})


def test_start_is_one_based():
    assert ids({"rows": 2}) == [1, 2]
    assert ids({"rows": 2, "start": 0}) == [1, 2]
    assert ids({"rows": 2, "start": 1}) == [1, 2]
    assert ids({"rows": 2, "start": 2}) == [2, 3]
    assert ids({"rows": 2, "start": 3}) == [3, 4]
    assert ids({"rows": 2, "start": 5}) == []


def test_rows_default_and_limits():
    records = [{"id": n} for n in range(1, 51)]
    assert len(ids({}, records)) == 20
    assert ids({"rows": 0}, records) == []
    assert len(ids({"rows": 10000}, records)) == 50
    for bad in ({"rows": 10001}, {"rows": -1}, {"rows": "5"}, {"rows": True}, {"start": -1}, {"start": 1.5}):
        with pytest.raises(ApiError) as info:
            SearchRequest(bad)
        assert info.value.status == 400
    with pytest.raises(ApiError) as info:
        SearchRequest({"rows": 10001})
    assert "10000" in info.value.message and "_scroll" in info.value.message


def test_sdk_style_paging_sees_every_record_once():
    records = [{"id": n} for n in range(1, 104)]
    seen, start = [], 0
    while True:
        body = {"rows": 10}
        if start > 1:
            body["start"] = start
        page = ids(body, records)
        seen.extend(page)
        start = len(seen) + 1
        if not page or len(seen) >= len(records):
            break
    assert seen == list(range(1, 104))
