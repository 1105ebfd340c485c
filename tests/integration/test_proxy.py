# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""proxy and ignore_system_proxy through a real CONNECT proxy (proxy.py) on loopback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import subprocess
import sys
import time

import pytest

from playbook_runner import api_key_connection, run_playbook


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def connect_proxy(tmp_path_factory):
    work = tmp_path_factory.mktemp("proxy")
    port_file = str(work / "port")
    log_file = str(work / "proxy.log")
    with open(log_file, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0",
                                    "--port-file", port_file, "--num-workers", "1", "--log-level", "INFO"],
                                   cwd=str(work), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("proxy.py did not start: %s" % open(log_file).read()[-2000:])
        time.sleep(0.1)
    port = int(open(port_file).read().strip())
    yield {"url": "http://127.0.0.1:%d" % port, "log": log_file}
    process.terminate()
    process.wait(timeout=10)


def connects_seen(proxy, sim):
    with open(proxy["log"]) as handle:
        return handle.read().count("CONNECT 127.0.0.1:%d" % sim.port)


def check(**options):
    return {"carbonblack.cloud.cbc_api_key_check": dict({"apis": ["devices"]}, **options)}


def test_proxy_option_tunnels_through_the_proxy(simulator, connect_proxy, tmp_path):
    connection = api_key_connection(simulator)
    before = connects_seen(connect_proxy, simulator)
    dead_proxy = "http://127.0.0.1:%d" % free_port()
    run = run_playbook(tmp_path, [
        check(proxy=connect_proxy["url"]),
        # retries: 0 - a dead proxy refuses at once; the retry budget is tested elsewhere.
        check(proxy=dead_proxy, retries=0),
        # ignore_system_proxy wins over proxy, as in the SDK.
        check(proxy=dead_proxy, ignore_system_proxy=True),
    ], connection=connection)
    assert run[0]["accessible"] == ["devices"], run[0]
    time.sleep(0.5)
    assert connects_seen(connect_proxy, simulator) > before
    assert run[1]["failed"] is True
    assert run[1]["msg"].startswith("could not reach %s through the proxy %s" % (simulator.url, dead_proxy)), run[1]["msg"]
    assert run[2]["accessible"] == ["devices"]


def test_environment_proxy_applies_unless_ignored(simulator, connect_proxy, tmp_path):
    connection = api_key_connection(simulator)
    dead_proxy = "http://127.0.0.1:%d" % free_port()
    run = run_playbook(tmp_path, [check(retries=0), check(ignore_system_proxy=True)], connection=connection,
                       env={"HTTPS_PROXY": dead_proxy})
    assert run[0]["failed"] is True and "through the proxy" in run[0]["msg"]
    assert run[1]["accessible"] == ["devices"]

    before = connects_seen(connect_proxy, simulator)
    run = run_playbook(tmp_path, [check()], connection=connection, env={"HTTPS_PROXY": connect_proxy["url"]})
    assert run[0]["accessible"] == ["devices"]
    time.sleep(0.5)
    assert connects_seen(connect_proxy, simulator) > before


def test_proxy_credentials_never_appear_in_messages(simulator, tmp_path):
    dead_proxy = "http://user:proxypass@127.0.0.1:%d" % free_port()
    connection = api_key_connection(simulator)
    run = run_playbook(tmp_path, [check(proxy=dead_proxy, retries=0)], connection=connection)
    assert run[0]["failed"] is True
    assert "proxypass" not in run[0]["msg"] and "//***@127.0.0.1" in run[0]["msg"]
