# shellcheck shell=bash
# Shared helpers for the carbonblack.cloud tooling. Source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides:
#   CBC_ROOT              absolute path of the repository (= collection) root
#   CBC_VENV              the tool virtualenv (default: $CBC_ROOT/.venv)
#   CBC_COLLECTIONS_DIR   $CBC_ROOT/.collections (contains ansible_collections/carbonblack/cloud -> repo root)
#   ensure_venv [demo|test] create/refresh the virtualenv, put it first on PATH: "demo" installs
#                         requirements-demo.txt (what the demo needs), "test" (the default) also the test tools
#   ensure_collection_path  create the collection symlink, export ANSIBLE_COLLECTIONS_PATH and PYTHONPATH
#   cbc_log / cbc_die     messages on stderr

if [ -z "${BASH_VERSION:-}" ]; then
    echo "scripts/lib.sh needs bash" >&2
    return 1
fi

CBC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CBC_VENV="${CBC_VENV:-$CBC_ROOT/.venv}"
CBC_COLLECTIONS_DIR="$CBC_ROOT/.collections"
CBC_NAMESPACE=carbonblack
CBC_NAME=cloud
# Files whose content decides whether the virtualenv must be (re)installed, per profile; the test profile is a
# superset of the demo one.
CBC_DEMO_REQUIREMENTS=(requirements-demo.txt requirements.txt tests/simulator/requirements.txt)
CBC_TEST_REQUIREMENTS=("${CBC_DEMO_REQUIREMENTS[@]}" requirements-test.txt)
export CBC_ROOT CBC_VENV CBC_COLLECTIONS_DIR

cbc_log() { printf '==> %s\n' "$*" >&2; }
cbc_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Print the command name of a Python 3.11-3.13 interpreter (ansible-core 2.19's
# controller range), preferring $CBC_PYTHON, then python3.11, then python3.
cbc_find_python() {
    local candidate
    for candidate in "${CBC_PYTHON:-}" python3.11 python3 python3.12 python3.13; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        # pyenv shims exist for versions that are not installed: actually run it.
        if "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# Hash of the requirement files (after the interpreter) plus the base interpreter version.
cbc_requirements_hash() {
    local python="$1" f
    shift
    {
        "$python" -c 'import sys; print(sys.version)'
        for f in "$@"; do
            printf '%s\n' "$f"
            if [ -f "$CBC_ROOT/$f" ]; then cat "$CBC_ROOT/$f"; fi
        done
    } | sha256sum | cut -d' ' -f1
}

ensure_venv() {
    local profile="${1:-test}" python stamp want have="" test_have="" files=() install
    case "$profile" in
        demo) files=("${CBC_DEMO_REQUIREMENTS[@]}") install=requirements-demo.txt ;;
        test) files=("${CBC_TEST_REQUIREMENTS[@]}") install=requirements-test.txt ;;
        *) cbc_die "ensure_venv: unknown profile $profile (demo or test)" ;;
    esac
    stamp="$CBC_VENV/.cbc-requirements-$profile.sha256"

    # A venv whose interpreter no longer runs (moved checkout, removed python) is rebuilt.
    if [ -e "$CBC_VENV" ] && ! "$CBC_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        cbc_log "virtualenv $CBC_VENV is broken, recreating it"
        rm -rf "$CBC_VENV"
    fi

    if [ ! -x "$CBC_VENV/bin/python" ]; then
        python="$(cbc_find_python)" || cbc_die "no Python 3.11-3.13 found (tried \$CBC_PYTHON, python3.11, python3, python3.12, python3.13)"
        cbc_log "creating virtualenv $CBC_VENV with $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"
        if ! "$python" -m venv "$CBC_VENV"; then
            rm -rf "$CBC_VENV"
            cbc_die "'$python -m venv' failed; on Debian/Ubuntu install the python3-venv package"
        fi
    fi

    want="$(cbc_requirements_hash "$CBC_VENV/bin/python" "${files[@]}")"
    [ -f "$stamp" ] && have="$(cat "$stamp")"
    # A venv set up for the tests has everything the demo needs.
    if [ "$profile" = demo ] && [ -f "$CBC_VENV/.cbc-requirements-test.sha256" ]; then
        test_have="$(cat "$CBC_VENV/.cbc-requirements-test.sha256")"
        [ "$test_have" = "$(cbc_requirements_hash "$CBC_VENV/bin/python" "${CBC_TEST_REQUIREMENTS[@]}")" ] && have="$want"
    fi
    if [ "$want" != "$have" ]; then
        cbc_log "installing the $profile requirements ($install) into $CBC_VENV; pip's progress follows"
        local log="$CBC_VENV/pip-$profile.log" status=0
        : >"$log"
        (cd "$CBC_ROOT" && "$CBC_VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
            -r "$install") >>"$log" 2>&1 &
        local pip_pid=$!
        # Show what is being installed while pip runs (the rest of its output stays in the log).
        tail -n +1 -f --pid="$pip_pid" "$log" | grep --line-buffered -E '^(Collecting|Processing) ' |
            sed -u -E 's/^(Collecting|Processing) ([^ ]+).*/    \2/; s#^    .*/#    #' >&2 || true
        wait "$pip_pid" || status=$?
        if [ "$status" -ne 0 ]; then
            tail -n 20 "$log" >&2
            cbc_die "pip could not install $install (full log: $log)"
        fi
        grep '^Successfully installed' "$log" | cut -c1-300 | sed 's/^/    /' >&2 || true
        printf '%s\n' "$want" >"$stamp"
    fi

    VIRTUAL_ENV="$CBC_VENV"
    PATH="$CBC_VENV/bin:$PATH"
    export VIRTUAL_ENV PATH
    hash -r
}

ensure_collection_path() {
    local parent="$CBC_COLLECTIONS_DIR/ansible_collections/$CBC_NAMESPACE"
    local link="$parent/$CBC_NAME"
    # Relative target, so the link stays valid if the checkout is moved or copied.
    local target="../../.."

    mkdir -p "$parent"
    if [ ! -L "$link" ] || [ "$(readlink "$link")" != "$target" ]; then
        rm -rf "$link"
        ln -s "$target" "$link"
    fi
    [ -f "$link/galaxy.yml" ] || cbc_die "collection link $link does not resolve to the repository root"

    ANSIBLE_COLLECTIONS_PATH="$CBC_COLLECTIONS_DIR"
    case ":${PYTHONPATH:-}:" in
        *":$CBC_COLLECTIONS_DIR:"*) ;;
        *) PYTHONPATH="$CBC_COLLECTIONS_DIR${PYTHONPATH:+:$PYTHONPATH}" ;;
    esac
    export ANSIBLE_COLLECTIONS_PATH PYTHONPATH
}
