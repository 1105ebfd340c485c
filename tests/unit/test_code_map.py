# -*- coding: utf-8 -*-
# Copyright (c) carbonblack.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The code map ("## Where things live" in docs/development.md) against the tree, both ways.

A backticked token of that section is a path when it has no space and contains a ``/`` or ends in a file extension
(``.py``, ``.yml``, ...). A path ending in ``/`` is a directory and covers every file below it; one with ``*``, ``?``
or ``[`` is a glob (``glob`` rules: ``*`` stays within one directory); any other path covers that one file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAP_FILE = os.path.join(REPO_ROOT, "docs", "development.md")
SECTION = "## Where things live"
#: The tracked files that must be on the map: (directory prefix, the ending a file needs, or "" for every file).
MAPPED = (
    ("plugins/", ""),
    ("tests/simulator/cbcsim/", ""),
    ("tests/integration/", ".py"),
    ("tests/benchmarks/", ""),
    ("scripts/", ""),
    ("roles/", ""),
    ("extensions/", ""),
)
EXTENSIONS = (".py", ".yml", ".yaml", ".md", ".sh", ".txt", ".json", ".cfg", ".ini", ".toml", ".rst", ".j2")
PATH_TOKEN = re.compile(r"^[A-Za-z0-9_.*?\[\]-][A-Za-z0-9_.*?\[\]/-]*$")
SKIPPED_DIRS = {".git", ".venv", ".collections", ".ansible", ".sim", "__pycache__", ".pytest_cache"}


def section_paths():
    """The path tokens of the map section, in order, without duplicates."""
    with open(MAP_FILE, encoding="utf-8") as handle:
        text = handle.read()
    assert SECTION in text, "docs/development.md has no '%s' section" % SECTION
    section = text.split(SECTION, 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    paths = []
    for token in re.findall(r"`([^`\n]+)`", section):
        if PATH_TOKEN.match(token) and ("/" in token or token.endswith(EXTENSIONS)) and token not in paths:
            paths.append(token)
    return paths


def tree_files():
    """The repository's files as relative POSIX paths: git's tracked files when there is a .git, else a walk."""
    if os.path.exists(os.path.join(REPO_ROOT, ".git")):
        try:
            out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True).stdout
            return [name for name in out.decode("utf-8").split("\0")
                    if name and os.path.isfile(os.path.join(REPO_ROOT, name))]
        except (OSError, subprocess.CalledProcessError):
            pass
    found = []
    for directory, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS and not name.endswith(".egg-info")]
        relative = os.path.relpath(directory, REPO_ROOT)
        if relative.replace(os.sep, "/").startswith("tests/output"):
            dirs[:] = []
            continue
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                found.append(os.path.normpath(os.path.join(relative, name)).replace(os.sep, "/"))
    return found


def is_glob(path):
    return any(char in path for char in "*?[")


def expand(path):
    """The files a map path names, relative to the repository root (an empty list when it names nothing)."""
    full = os.path.join(REPO_ROOT, path)
    if is_glob(path):
        return [os.path.relpath(name, REPO_ROOT).replace(os.sep, "/") for name in glob.glob(full) if os.path.isfile(name)]
    return [path] if os.path.isfile(full) else []


def test_every_mapped_file_is_on_the_map():
    paths = section_paths()
    directories = tuple(path for path in paths if path.endswith("/"))
    covered = set()
    for path in paths:
        if not path.endswith("/"):
            covered.update(expand(path))
    missing = sorted(name for name in tree_files()
                     if any(name.startswith(prefix) and name.endswith(ending) for prefix, ending in MAPPED)
                     and name not in covered and not name.startswith(directories))
    assert not missing, "files missing from '%s' in docs/development.md: %s" % (SECTION, ", ".join(missing))


def test_every_path_on_the_map_exists():
    missing = [path for path in section_paths()
               if not (os.path.isdir(os.path.join(REPO_ROOT, path)) if path.endswith("/") else expand(path))]
    assert not missing, "paths in '%s' of docs/development.md that match no file: %s" % (SECTION, ", ".join(missing))
