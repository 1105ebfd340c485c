# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""writes.reconciled_write: what happens after a write's answer was lost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.carbonblack.cloud.plugins.module_utils.errors import (
    CbcApiError, CbcWriteOutcomeUnknown, CbcWriteUnconfirmed)
from ansible_collections.carbonblack.cloud.plugins.module_utils.writes import delete_sender, reconciled_write


class Client:
    def __init__(self):
        self.notes = []
        self.pauses = []

    def settle_pause(self):
        return 5.0

    def pause(self, seconds):
        self.pauses.append(seconds)


def sender(*outcomes):
    """A send() that raises or returns the given outcomes in order, counting its calls."""
    calls = []

    def send():
        calls.append(True)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return send, calls


def lost(may_resend=True):
    return CbcWriteOutcomeUnknown("POST", "/x", "the connection was dropped before the answer came", may_resend)


def test_an_answered_write_is_not_read_back():
    send, calls = sender({"id": 1})
    assert reconciled_write(Client(), "it", send, lambda: pytest.fail("no read-back")) == {"id": 1}
    assert len(calls) == 1


def test_a_lost_write_that_was_applied_is_success_and_noted():
    client = Client()
    send, calls = sender(lost())
    assert reconciled_write(client, "the creation of x", send, lambda: (True, {"id": 7})) == {"id": 7}
    assert len(calls) == 1 and client.pauses == []
    assert client.notes[0].startswith("the creation of x: POST /x: the connection was dropped")


def test_a_lost_write_that_was_not_applied_is_sent_once_more():
    client = Client()
    send, calls = sender(lost(), {"id": 2})
    assert reconciled_write(client, "it", send, lambda: (False, None)) == {"id": 2}
    assert len(calls) == 2 and "sent once more" in client.notes[0]


def test_never_more_than_two_sends():
    send, calls = sender(lost(), lost())
    with pytest.raises(CbcWriteUnconfirmed) as info:
        reconciled_write(Client(), "it", send, lambda: (False, None))
    assert len(calls) == 2 and "may have been applied" in str(info.value)


def test_a_timed_out_write_is_read_back_after_a_pause_and_never_resent():
    client = Client()
    send, calls = sender(lost(may_resend=False))
    with pytest.raises(CbcWriteUnconfirmed) as info:
        reconciled_write(client, "it", send, lambda: (False, None))
    assert len(calls) == 1 and client.pauses == [5.0]
    assert "after a 5 s pause" in str(info.value) and "re-run the task; that is safe" in str(info.value)


def test_a_failed_read_back_says_the_write_may_have_been_applied():
    def confirm():
        raise CbcApiError("GET", "/x", 500, "boom")
    send, unused_calls = sender(lost())
    with pytest.raises(CbcWriteUnconfirmed) as info:
        reconciled_write(Client(), "the deletion of y", send, confirm)
    assert "reading the state back failed too" in str(info.value)
    assert "the deletion of y may have been applied" in str(info.value)


def test_a_404_to_the_second_delete_is_success():
    state = {"n": 0}

    def call():
        state["n"] += 1
        raise CbcApiError("DELETE", "/x", 404, "gone")
    send = delete_sender(call)
    with pytest.raises(CbcApiError):
        send()
    assert send() is None
