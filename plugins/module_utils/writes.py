# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes whose answer may be lost, reconciled with the server's state.

The client raises CbcWriteOutcomeUnknown when a write reached the server (or may have) but no usable
answer came back. ``reconciled_write`` then reads the server's state and decides:

- applied: the write counts as done (``changed``), and a note says it was reconciled;
- not applied: it is sent once more, unless the answer timed out (the server may still be applying the
  first one) or this already was the second send;
- cannot tell (the read fails, or it shows nothing after a timeout): CbcWriteUnconfirmed, whose message
  says the write may have been applied and that a re-run is safe.

No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import CbcApiError, CbcError, CbcWriteOutcomeUnknown, CbcWriteUnconfirmed


def note(client, text):
    """Record a reconciliation for the task's warnings (clients without ``notes`` ignore it)."""
    notes = getattr(client, "notes", None)
    if notes is not None:
        notes.append(text)


def reconciled_write(client, what, send, confirm):
    """Send a write once; on an unknown outcome, reconcile. Return the write's answer, or the value read back.

    ``what`` names the write for messages (e.g. ``the creation of policy 'Servers'``); ``send()`` sends it and
    returns the answer; ``confirm()`` reads the server and returns ``(True, value)`` when the write is in
    effect, ``(False, None)`` when it is not.
    """
    try:
        return send()
    except CbcWriteOutcomeUnknown as error:
        unknown = error
    resent = False
    while True:
        if not unknown.may_resend:
            client.pause(client.settle_pause())
        try:
            applied, value = confirm()
        except CbcError as error:
            raise CbcWriteUnconfirmed(
                "%s; reading the state back failed too (%s), so %s may have been applied. Fix: re-run the task; that "
                "is safe, it reads the current state first and sends only what is still needed" % (unknown, error, what))
        if applied:
            note(client, "%s: %s; reading the state back showed it was applied" % (what, unknown))
            return value
        if resent or not unknown.may_resend:
            waited = "" if unknown.may_resend else " after a %.0f s pause" % client.settle_pause()
            raise CbcWriteUnconfirmed(
                "%s; %s was not in effect when read back%s, but it may have been applied (the server may still be "
                "applying it). Fix: re-run the task; that is safe, it reads the current state first and sends only what "
                "is still needed" % (unknown, what, waited))
        resent = True
        note(client, "%s: %s; reading the state back showed it was not applied, so it was sent once more"
             % (what, unknown))
        try:
            return send()
        except CbcWriteOutcomeUnknown as error:
            unknown = error


def delete_sender(call):
    """A ``send`` for a DELETE: a 404 answering the second send means the first one was applied after all."""
    sends = []

    def send():
        sends.append(True)
        try:
            return call()
        except CbcApiError as error:
            if error.status == 404 and len(sends) > 1:
                return None
            raise
    return send
