#!/usr/bin/env bash
# Build the HTML documentation site of carbonblack.cloud with antsibull-docs, offline.
#
#   ./scripts/docs.sh [all|lint|build]...     (default: all = lint build)
#
#   lint    antsibull-docs lint-collection-docs --plugin-docs on the working tree: module, plugin and role
#           documentation (schema, markup, references, rstcheck), docs/docsite/extra-docs.yml and links.yml
#   build   antsibull-docs sphinx-init, then the build.sh it generates (antsibull-docs collection
#           --fail-on-error, sphinx-build -W --keep-going) into tests/output/docsite; HTML in
#           tests/output/docsite/build/html
#
# Any documentation error or Sphinx warning (bad markup in a DOCUMENTATION block, a broken link in a guide)
# makes the command exit non-zero.
#
# How it works:
# * Tools: requirements-docs.txt (fully pinned) in a virtualenv of their own, $CBC_DOCS_VENV (default
#   tests/output/docs-venv, git-ignored and outside the test venv), reinstalled when that file or the
#   Python version changes. Only PyPI is used, for that install.
# * Guides: the Markdown files docs/NAME.md, listed by NAME in docs/docsite/extra-docs.yml. antsibull-docs
#   only takes extra docs as .rst files under docs/docsite/rst/, so rather than converting them (and
#   keeping generated .rst out of git) Sphinx renders the Markdown itself with myst-parser: a small Sphinx
#   extension written next to the generated conf.py copies docs/NAME.md to docsite/NAME.md, where the
#   collection index generated from extra-docs.yml points. Links between guides and to their headings are
#   checked by MyST; links to repository files outside the site (../README.md#where-the-modules-run)
#   become links to the repository (edit_on_github in links.yml) once the file and the heading are found.
#   The linter does not know that mapping and reports each guide as "does not reference an existing file":
#   `lint` drops exactly those messages for refs whose docs/NAME.md exists and fails on any other message.
# * Offline: the generated conf.py fetches the python, jinja2 and ansible_devel intersphinx inventories
#   from the internet. It is replaced by one local inventory holding the few ansible-core docs labels the
#   generated pages link to (ANSIBLE_DOCS_LABELS below); a link to any other ansible-core docs label fails
#   the build with "undefined label" until the label is added there.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CBC_DOCS_VENV="${CBC_DOCS_VENV:-$CBC_ROOT/tests/output/docs-venv}"
DOCS_REQUIREMENTS="$CBC_ROOT/requirements-docs.txt"
DOCSITE="$CBC_ROOT/tests/output/docsite"
COLLECTION="$CBC_NAMESPACE.$CBC_NAME"
# Where antsibull-docs puts the collection's pages inside the Sphinx source directory.
DOCSITE_COLLECTION_DIR="collections/$CBC_NAMESPACE/$CBC_NAME"
# label|page (relative to the ansible_devel docs)|title: the ansible-core docs labels the generated pages use.
ANSIBLE_DOCS_LABELS=(
    "action_plugins|plugins/action.html#action-plugins|Action plugins"
    "common_return_values|reference_appendices/common_return_values.html#common-return-values|Return Values"
    "ansible_configuration_settings|reference_appendices/config.html#ansible-configuration-settings|Ansible Configuration Settings"
    "ansible_collections.ansible.builtin.constructed_inventory|collections/ansible/builtin/constructed_inventory.html|ansible.builtin.constructed inventory"
    "ANSIBLE_CACHE_PLUGIN|reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN|ANSIBLE_CACHE_PLUGIN|std:envvar"
    "ANSIBLE_CACHE_PLUGIN_CONNECTION|reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_CONNECTION|ANSIBLE_CACHE_PLUGIN_CONNECTION|std:envvar"
    "ANSIBLE_CACHE_PLUGIN_PREFIX|reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_PREFIX|ANSIBLE_CACHE_PLUGIN_PREFIX|std:envvar"
    "ANSIBLE_CACHE_PLUGIN_TIMEOUT|reference_appendices/config.html#envvar-ANSIBLE_CACHE_PLUGIN_TIMEOUT|ANSIBLE_CACHE_PLUGIN_TIMEOUT|std:envvar"
)
ANSIBLE_DOCS_URL="https://docs.ansible.com/projects/ansible/devel/"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

steps=()
for arg in "$@"; do
    case "$arg" in
        all) steps+=(lint build) ;;
        lint|build) steps+=("$arg") ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ "${#steps[@]}" -gt 0 ] || steps=(lint build)

# The docs virtualenv: created with the interpreter lib.sh picks, (re)installed when requirements-docs.txt
# or the interpreter version changes (stamp file as in lib.sh), put first on PATH.
ensure_docs_venv() {
    local python stamp want have=""
    stamp="$CBC_DOCS_VENV/.cbc-requirements.sha256"
    if [ -e "$CBC_DOCS_VENV" ] && ! "$CBC_DOCS_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        cbc_log "virtualenv $CBC_DOCS_VENV is broken, recreating it"
        rm -rf "$CBC_DOCS_VENV"
    fi
    if [ ! -x "$CBC_DOCS_VENV/bin/python" ]; then
        python="$(cbc_find_python)" || cbc_die "no Python 3.11-3.13 found (tried \$CBC_PYTHON, python3.11, python3, python3.12, python3.13)"
        cbc_log "creating docs virtualenv $CBC_DOCS_VENV with $python"
        mkdir -p "$(dirname "$CBC_DOCS_VENV")"
        if ! "$python" -m venv "$CBC_DOCS_VENV"; then
            rm -rf "$CBC_DOCS_VENV"
            cbc_die "'$python -m venv' failed; on Debian/Ubuntu install the python3-venv package"
        fi
    fi
    want="$({ "$CBC_DOCS_VENV/bin/python" -c 'import sys; print(sys.version)'; cat "$DOCS_REQUIREMENTS"; } | sha256sum | cut -d' ' -f1)"
    [ -f "$stamp" ] && have="$(cat "$stamp")"
    if [ "$want" != "$have" ]; then
        cbc_log "installing requirements-docs.txt into $CBC_DOCS_VENV"
        "$CBC_DOCS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$CBC_DOCS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$DOCS_REQUIREMENTS"
        printf '%s\n' "$want" >"$stamp"
    fi
    VIRTUAL_ENV="$CBC_DOCS_VENV"
    PATH="$CBC_DOCS_VENV/bin:$PATH"
    export VIRTUAL_ENV PATH
    hash -r
}

# ---------------------------------------------------------------- lint
run_lint() {
    local out rc=0
    out="$(mktemp "${TMPDIR:-/tmp}/cbc-docs-lint.XXXXXX")"
    cbc_log "antsibull-docs lint-collection-docs --plugin-docs (collection root $CBC_ROOT)"
    (cd "$CBC_ROOT" && antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent \
        --message-format json .) >"$out" || rc=$?
    # 0: clean, 3: messages (in the JSON); anything else is a crash.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
        cat "$out" >&2
        rm -f "$out"
        cbc_die "antsibull-docs lint-collection-docs failed (exit $rc)"
    fi
    rc=0
    python - "$out" "$CBC_ROOT" <<'PY' || rc=$?
import json
import os
import re
import sys

out, root = sys.argv[1], sys.argv[2]
with open(out, encoding="utf-8") as f:
    messages = json.load(f)["messages"]
# Guides are docs/NAME.md (see the top of scripts/docs.sh), which the linter cannot see.
guide = re.compile(r"sections\[\d+\] -> toctree\[\d+\] -> ref \('([^']+)'\) does not reference an existing file$")
left = []
for m in messages:
    g = guide.match(m["message"]) if m["path"] == "docs/docsite/extra-docs.yml" else None
    if g and os.path.isfile(os.path.join(root, "docs", g.group(1) + ".md")):
        continue
    if g:
        m["message"] += f" (and docs/{g.group(1)}.md does not exist)"
    left.append(m)
for m in left:
    where = ":".join(str(m[k]) for k in ("path", "row", "column") if m.get(k) is not None)
    print(f"{where}: {m['message']}")
sys.exit(1 if left else 0)
PY
    rm -f "$out"
    [ "$rc" -eq 0 ] || cbc_die "documentation lint found the problems above"
    cbc_log "lint: no documentation problems"
}

# ---------------------------------------------------------------- build
# Sphinx extension used by the generated conf.py: puts the Markdown guides into the Sphinx source tree
# and points links to repository files outside the site at the repository.
write_markdown_extension() {
    cat >"$1" <<'PY'
"""carbonblack.cloud docs: Markdown guides docs/NAME.md as docsite/NAME (written by scripts/docs.sh)."""
import os
import re
import shutil

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

LOG = logging.getLogger(__name__)


def _load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _guide_refs(root):
    index = _load_yaml(os.path.join(root, "docs", "docsite", "extra-docs.yml"))
    for section in index.get("sections") or []:
        for entry in section.get("toctree") or []:
            yield entry["ref"] if isinstance(entry, dict) else entry


def _github_anchors(path):
    """Anchors GitHub gives the headings of a Markdown file."""
    anchors, seen, fence = set(), {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.lstrip().startswith(("```", "~~~")):
                fence = not fence
                continue
            m = None if fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)).replace("`", "")
            slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _copy_guides(app):
    root = app.config.cbc_collection_root
    app.env.cbc_guides = {}
    for ref in _guide_refs(root):
        source = os.path.join(root, "docs", ref + ".md")
        if not os.path.isfile(source):
            raise ExtensionError(f"docs/docsite/extra-docs.yml lists {ref!r}, but docs/{ref}.md does not exist")
        docname = f"{app.config.cbc_docsite_dir}/{ref}"
        target = os.path.join(app.srcdir, docname + ".md")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
        app.env.cbc_guides[docname] = source


def _link_repository_files(app, doctree):
    """Links MyST could not resolve inside the site, to files of the repository: link to the repository."""
    source = getattr(app.env, "cbc_guides", {}).get(app.env.docname)
    if not source:
        return
    root = app.config.cbc_collection_root
    links = _load_yaml(os.path.join(root, "docs", "docsite", "links.yml")).get("edit_on_github") or {}
    if not links.get("repository"):
        raise ExtensionError("docs/docsite/links.yml has no edit_on_github.repository")
    base = f"https://github.com/{links['repository']}/blob/{links.get('branch') or 'main'}/"
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("reftype") != "myst" or node.get("refdomain"):
            continue
        path, _, anchor = node["reftarget"].partition("#")
        if not path or "://" in path:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(source), path))
        rel = os.path.relpath(target, root)
        if rel.startswith(os.pardir) or not os.path.exists(target):
            continue  # MyST reports it: "cross-reference target not found"
        if anchor and target.endswith(".md") and anchor not in _github_anchors(target):
            LOG.warning("link %r: %s has no heading with the anchor #%s", node["reftarget"], rel, anchor,
                        location=node)
        ref = nodes.reference("", "", internal=False, refuri=base + rel.replace(os.sep, "/") + (f"#{anchor}" if anchor else ""))
        ref += [child.deepcopy() for child in node.children] or [nodes.literal(path, path)]
        node.replace_self(ref)


def setup(app):
    app.add_config_value("cbc_collection_root", "", "env")
    app.add_config_value("cbc_docsite_dir", "", "env")
    app.connect("builder-inited", _copy_guides)
    app.connect("doctree-read", _link_repository_files)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
PY
}

# Appends the offline and Markdown settings to the generated conf.py and writes the local inventory.
configure_docsite() {
    python - "$DOCSITE" "$CBC_ROOT" "$DOCSITE_COLLECTION_DIR" "$ANSIBLE_DOCS_URL" "${ANSIBLE_DOCS_LABELS[@]}" <<'PY'
import sys
import zlib

docsite, root, collection_dir, ansible_url, *labels = sys.argv[1:]
entries = [(x.split("|") + ["std:label"])[:4] for x in labels]
inventory = "".join(f"{name} {role} -1 {uri} {title}\n" for name, uri, title, role in entries)
with open(f"{docsite}/ansible_devel.inv", "wb") as f:
    f.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
            b"# The remainder of this file is compressed using zlib.\n")
    f.write(zlib.compress(inventory.encode("utf-8")))
with open(f"{docsite}/conf.py", "a", encoding="utf-8") as f:
    f.write(f"""
# ---- added by scripts/docs.sh ----
import os as _os
import sys as _sys
_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))
# Offline: no inventory from the internet, only the local one (relative to the source directory rst/).
intersphinx_mapping = {{"ansible_devel": ({ansible_url!r}, "../ansible_devel.inv")}}
# The Markdown guides (docs/NAME.md, listed in docs/docsite/extra-docs.yml).
extensions += ["myst_parser", "cbc_markdown_guides"]
myst_heading_anchors = 3
cbc_collection_root = {root!r}
cbc_docsite_dir = {collection_dir + "/docsite"!r}
""")
PY
}

run_build() {
    local start=$SECONDS
    # A fresh tree every time: an incremental Sphinx build would not repeat the warnings of unchanged pages.
    rm -rf "$DOCSITE"
    mkdir -p "$DOCSITE"
    chmod 0755 "$DOCSITE"   # antsibull-docs wants it writable by its owner only
    cbc_log "antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $DOCSITE $COLLECTION"
    antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$DOCSITE" \
        --project "$COLLECTION" --copyright "$COLLECTION contributors" \
        --title "$COLLECTION documentation" --html-short-title "$COLLECTION" \
        "$COLLECTION" >/dev/null
    # Guard against a change of the generated script: it must fail on errors and warnings.
    grep -q -- '--fail-on-error' "$DOCSITE/build.sh" || cbc_die "generated build.sh does not pass --fail-on-error"
    grep -q -- '^sphinx-build .* -W --keep-going' "$DOCSITE/build.sh" || cbc_die "generated build.sh does not run sphinx-build -W --keep-going"
    write_markdown_extension "$DOCSITE/cbc_markdown_guides.py"
    configure_docsite
    cbc_log "running $DOCSITE/build.sh"
    local log="$DOCSITE/build.log" rc=0
    "$DOCSITE/build.sh" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        grep -v -E '^(reading sources|writing output|copying|Writing )' "$log" >&2 || true
        cbc_die "docs build failed (exit $rc); full log: $log"
    fi
    # antsibull-docs renders a markup error in a plugin's documentation as text and goes on.
    if grep -rlF 'ERROR while parsing' "$DOCSITE/rst" >&2; then
        cbc_die "the pages above contain documentation markup errors (run ./scripts/docs.sh lint for details)"
    fi
    [ -f "$DOCSITE/build/html/index.html" ] || cbc_die "no $DOCSITE/build/html/index.html after the build"
    cbc_log "docs built in $((SECONDS - start))s"
    echo "HTML: $DOCSITE/build/html/index.html"
}

ensure_docs_venv
ensure_collection_path
for step in "${steps[@]}"; do
    case "$step" in
        lint) run_lint ;;
        build) run_build ;;
    esac
done
