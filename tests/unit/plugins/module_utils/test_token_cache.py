# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

from ansible_collections.carbonblack.cloud.plugins.module_utils.auth.token_cache import (
    EXPIRY_MARGIN, TokenCache, cache_key, default_cache_dir)


def test_cached_token_is_private_and_reused_until_near_expiry(tmp_path):
    cache = TokenCache(str(tmp_path / "cache"))
    key = cache_key("csp_oauth_app", "https://csp", "app", "appsecret")
    now = time.time()
    cache.put(key, "access-1", now + 1800)
    assert cache.get(key, now=now) == "access-1"
    assert cache.get(key, now=now + 1800 - EXPIRY_MARGIN + 1) is None
    path = tmp_path / "cache" / (key + ".json")
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "cache")).st_mode) == 0o700


def test_key_does_not_reveal_the_secret_and_differs_per_credential_set():
    first = cache_key("csp_oauth_app", "https://csp", "app", "appsecret")
    assert "appsecret" not in first and len(first) == 64
    assert first != cache_key("csp_oauth_app", "https://csp", "app", "othersecret")
    assert first != cache_key("csp_oauth_app", "https://other-csp", "app", "appsecret")


def test_corrupt_or_missing_entries_are_ignored(tmp_path):
    cache = TokenCache(str(tmp_path))
    assert cache.get("nothing") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert cache.get("bad") is None
    cache.put("k", "t", time.time() + 999)
    cache.discard("k")
    assert cache.get("k") is None


def test_lock_can_be_taken_again_after_release(tmp_path):
    cache = TokenCache(str(tmp_path / "c"))
    with cache.locked("k"):
        pass
    with cache.locked("k"):
        cache.put("k", "t", time.time() + 999)
    assert cache.get("k") == "t"


def test_default_dir_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == os.path.join(str(tmp_path), "carbonblack.cloud", "csp-tokens")
