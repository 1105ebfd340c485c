#!/usr/bin/env bash
# The test command of carbonblack.cloud.
#
#   ./scripts/test.sh [all|unit|sanity|lint|release|docs]...     (default: all = unit sanity lint release docs)
#
#   unit    pytest tests/unit, then tests/integration on $CBC_TEST_WORKERS workers (default: one per CPU),
#           each with its own simulator
#   sanity  ansible-test sanity on a copy of the collection, offline
#   lint    ansible-lint --profile production
#   release the built tarball through galaxy-importer (Galaxy's own import checks), meta/execution-environment.yml
#           through ansible-builder introspect, and docs/ee/execution-environment.yml through ansible-builder create
#   docs    ./scripts/docs.sh: antsibull-docs lint-collection-docs --plugin-docs, then the HTML site, offline
#
# With unit, the other steps run in the background while pytest runs (their output follows pytest's).
# Stops at the first failing step, always prints a summary with the time of each step. The last line is
#   "summary: N passed, N failed[, N skipped]"
# where every pytest test counts as one, and sanity and lint count as one check each.
# Extra pytest arguments can be passed in $PYTEST_ADDOPTS.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

steps=()
for arg in "$@"; do
    case "$arg" in
        all) steps+=(unit sanity lint release docs) ;;
        unit|pytest) steps+=(unit) ;;
        sanity|lint|release|docs) steps+=("$arg") ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ "${#steps[@]}" -gt 0 ] || steps=(unit sanity lint release docs)

run_start=$SECONDS
# Plain output when not on a terminal (CI logs).
[ -t 1 ] || export NO_COLOR=1
WORK_TMP="$(mktemp -d "${TMPDIR:-/tmp}/cbc-test.XXXXXX")"
summary_done=""
# Also print a summary when setup (venv, collection path) dies half-way.
trap 'rm -rf "$WORK_TMP"; if [ -z "$summary_done" ]; then failed_step="${failed_step:-setup}"; n_failed=$((n_failed + 1)); print_summary; fi' EXIT

n_passed=0 n_failed=0 n_skipped=0
results=()      # "step: status (duration)" lines for the summary
failed_step=""

print_summary() {
    summary_done=1
    echo
    echo "================ carbonblack.cloud test summary ================"
    local line
    for line in "${results[@]}"; do echo "  $line"; done
    if [ -z "$failed_step" ]; then
        local joined
        joined="$(printf '%s, ' "${steps[@]}")"
        echo "all checks passed: ${joined%, }"
    else
        echo "FAILED at step: $failed_step"
    fi
    echo "total time: $((SECONDS - run_start))s"
    local tail=""
    [ "$n_skipped" -gt 0 ] && tail=", $n_skipped skipped"
    echo "summary: $n_passed passed, $n_failed failed$tail"
}

# ---------------------------------------------------------------- unit (pytest)
# Count tests in a pytest JUnit report: prints "tests failures errors skipped".
junit_counts() {
    python - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0 0")
    raise SystemExit(0)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
totals = [0, 0, 0, 0]
for s in suites:
    for i, key in enumerate(("tests", "failures", "errors", "skipped")):
        totals[i] += int(s.get(key, 0))
print(*totals)
PY
}

# pytest runs once per directory (test files in different directories may share a
# basename). Exit code 5 ("no tests collected") of one directory is fine as long as
# some test ran overall.
step_unit() {
    local d rc status=0 ran=0 junit tests failures errors skipped
    for d in tests/unit tests/integration; do
        if [ ! -d "$CBC_ROOT/$d" ]; then
            echo "pytest: $d does not exist, skipped"
            continue
        fi
        echo "---- pytest $d"
        junit="$WORK_TMP/pytest-${d//\//-}.xml"
        workers=()
        # Integration tests wait on ansible-playbook and the simulator: one worker per CPU.
        [ "$d" = tests/integration ] && workers=(-n "${CBC_TEST_WORKERS:-auto}")
        rc=0
        dir_start=$SECONDS
        (cd "$CBC_ROOT" && python -m pytest -q -p no:cacheprovider -rfE "${workers[@]}" --junitxml="$junit" "$d") || rc=$?
        read -r tests failures errors skipped <<<"$(junit_counts "$junit")"
        results+=("pytest $d: $tests tests, $((failures + errors)) failed, $skipped skipped ($((SECONDS - dir_start))s)")
        ran=$((ran + tests))
        n_passed=$((n_passed + tests - failures - errors - skipped))
        n_failed=$((n_failed + failures + errors))
        n_skipped=$((n_skipped + skipped))
        case "$rc" in
            0|5) ;;
            *)
                # pytest failed without a failing test (collection, usage or internal error)
                if [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ]; then n_failed=$((n_failed + 1)); fi
                status=1
                ;;
        esac
    done
    if [ "$ran" -eq 0 ]; then
        echo "pytest: no tests were collected in tests/unit or tests/integration" >&2
        n_failed=$((n_failed + 1))
        status=1
    fi
    return "$status"
}

# ---------------------------------------------------------------- sanity (ansible-test)
# ansible-test bootstraps pip in every sanity virtualenv by downloading get-pip.py
# from a host that is not reachable here. Put an offline stand-in into its cache.
write_get_pip_standin() {
    local home="$1" pip_version cache_file
    pip_version="$(python - <<'PY'
import os, re
import ansible_test
path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
with open(path, encoding="utf-8") as f:
    m = re.search(r"pip='([0-9.]+)'", f.read())
print(m.group(1) if m else "24.2")
PY
)"
    cache_file="$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    mkdir -p "$(dirname "$cache_file")"
    cat >"$cache_file.tmp.$$" <<'PY'
"""Offline stand-in for get-pip.py, written by carbonblack.cloud's scripts/test.sh.

ansible-test runs this as "python get_pip.py [pip options] pip==X [--no-setuptools] [--no-wheel]"
inside a fresh virtualenv. Install pip from the interpreter's bundled wheel, then
install the requested version from the package index the machine is configured for.
"""
import ensurepip
import os
import subprocess
import sys


def main():
    saved_env = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in os.environ: restore the caller's environment
    # so pip reads the machine's pip configuration again.
    os.environ.clear()
    os.environ.update(saved_env)
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    cmd = [sys.executable, "-m", "pip", "install", "--quiet"]
    # ansible-test strips the environment (PIP_CERT, REQUESTS_CA_BUNDLE, ...).
    cert = "/etc/ssl/certs/ca-certificates.crt"
    if os.path.isfile(cert):
        cmd += ["--cert", cert]
    sys.exit(subprocess.call(cmd + args))


if __name__ == "__main__":
    main()
PY
    mv -f "$cache_file.tmp.$$" "$cache_file"
}

# Copy the files git would commit (tracked + untracked-but-not-ignored) into DEST.
copy_collection_tree() {
    local dest="$1"
    mkdir -p "$dest"
    if git -C "$CBC_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (
            cd "$CBC_ROOT"
            git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
                if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
            done | tar --null --no-recursion -T - -cf -
        ) | tar -xf - -C "$dest"
    else
        (
            cd "$CBC_ROOT"
            tar --exclude=./.git --exclude=./.venv --exclude=./.collections --exclude=./.ansible \
                --exclude=./tests/output --exclude=./.sim --exclude='__pycache__' --exclude=.pytest_cache \
                -cf - .
        ) | tar -xf - -C "$dest"
    fi
}

# Module Python versions claimed in tests/config.yml (ansible-core 2.19 supports 3.8 to 3.13 on targets).
MODULE_PYTHONS=(3.8 3.9 3.10 3.11 3.12 3.13)

# The directory of a pythonX.Y on PATH or in pyenv's versions, or nothing.
python_dir() {
    local version="$1" found
    found="$(command -v "python$version" 2>/dev/null || true)"
    # A pyenv shim exists for versions that are not selected: it must actually run.
    if [ -n "$found" ] && ! "$found" -c 'import sys' >/dev/null 2>&1; then found=""; fi
    if [ -z "$found" ]; then
        found="$(find "${PYENV_ROOT:-$HOME/.pyenv}/versions" -maxdepth 3 -path "*/$version.*/bin/python$version" 2>/dev/null |
            sort -V | tail -n 1)"
    fi
    [ -n "$found" ] && [ -x "$found" ] && dirname "$found"
}

step_sanity() {
    local dest py_version rc=0 test_home version dir extra_path="" checked=() missing=() f
    # ansible-test keeps its virtualenvs and caches under ~/.ansible/test: give it a home inside the checkout, with
    # the user's pip configuration (read only).
    test_home="$CBC_ROOT/tests/output/ansible-test-home"
    mkdir -p "$test_home"
    for f in .pip/pip.conf .config/pip/pip.conf; do
        if [ -f "$HOME/$f" ]; then
            mkdir -p "$test_home/$(dirname "$f")"
            ln -sfn "$HOME/$f" "$test_home/$f"
        fi
    done
    write_get_pip_standin "$test_home" || return 1
    dest="$WORK_TMP/sanity/ansible_collections/$CBC_NAMESPACE/$CBC_NAME"
    copy_collection_tree "$dest" || return 1
    py_version="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    for version in "${MODULE_PYTHONS[@]}"; do
        [ "$version" = "$py_version" ] && continue
        if dir="$(python_dir "$version")"; then
            extra_path="$extra_path$dir:"
            checked+=("$version")
        else
            missing+=("$version")
        fi
    done
    echo "ansible-test sanity --python $py_version (in $dest)"
    (cd "$dest" && HOME="$test_home" ansible-test sanity --python "$py_version" --color no) || return $?
    for version in "${checked[@]}"; do
        echo "ansible-test sanity --test compile --test import --python $version (module code)"
        (cd "$dest" && HOME="$test_home" PATH="$extra_path$PATH" \
            ansible-test sanity --test compile --test import --python "$version" --color no) || rc=$?
        [ "$rc" -eq 0 ] || return "$rc"
    done
    echo "module Python versions checked: $py_version ${checked[*]}"
    [ "${#missing[@]}" -eq 0 ] || echo "not installed here, so not checked: ${missing[*]}"
    return 0
}

# ---------------------------------------------------------------- lint (ansible-lint)
step_lint() {
    (cd "$CBC_ROOT" && ansible-lint --offline --strict --profile production)
}

# ---------------------------------------------------------------- release (galaxy-importer, ansible-builder)
step_release() {
    local out="$WORK_TMP/release" tarball
    mkdir -p "$out"
    (cd "$CBC_ROOT" && ansible-galaxy collection build --force --output-path "$out" .) || return 1
    tarball="$(find "$out" -maxdepth 1 -name '*.tar.gz' | head -n 1)"
    echo "galaxy-importer $(python -c 'import galaxy_importer; print(galaxy_importer.__version__)') on $(basename "$tarball")"
    # It writes importer_result.json into the current directory.
    if ! (cd "$out" && python -m galaxy_importer.main "$tarball") >"$out/importer.log" 2>&1; then
        cat "$out/importer.log"
        return 1
    fi
    # A warning is a finding Galaxy shows on the collection's page: treat it as a failure.
    if grep -E '^(ERROR|WARNING)' "$out/importer.log"; then return 1; fi
    tail -n 1 "$out/importer.log"
    echo "ansible-builder introspect (meta/execution-environment.yml)"
    ansible-builder introspect --sanitize "$CBC_COLLECTIONS_DIR" >"$out/introspect.log" 2>&1 || { cat "$out/introspect.log"; return 1; }
    grep -q 'carbonblack.cloud' "$out/introspect.log" || { cat "$out/introspect.log"; echo "introspect did not read the collection"; return 1; }
    sed -n '/python:/,$p' "$out/introspect.log" | head -n 5
    echo "ansible-builder create (docs/ee/execution-environment.yml)"
    (cd "$CBC_ROOT/docs/ee" && ansible-builder create -f execution-environment.yml --context "$out/ee") >"$out/ee.log" 2>&1 ||
        { cat "$out/ee.log"; return 1; }
    [ -f "$out/ee/Containerfile" ] || [ -f "$out/ee/Dockerfile" ] || { cat "$out/ee.log"; echo "no Containerfile written"; return 1; }
    tail -n 1 "$out/ee.log"
}

# ---------------------------------------------------------------- docs (antsibull-docs)
step_docs() {
    "$CBC_ROOT/scripts/docs.sh"
}

# ---------------------------------------------------------------- main
ensure_venv test
ensure_collection_path

# sanity and lint in the background while pytest runs (pytest leaves part of the CPUs idle), when they are
# asked for together with unit: "$WORK_TMP/<step>.rc" holds each one's exit code, <step>.log its output.
background=()
case " ${steps[*]} " in
    *" unit "*)
        for step in sanity lint release docs; do
            case " ${steps[*]} " in *" $step "*) background+=("$step") ;; esac
        done
        ;;
esac
if [ "${#background[@]}" -gt 0 ]; then
    (
        for step in "${background[@]}"; do
            step_start=$SECONDS
            rc=0
            case "$step" in
                sanity) step_sanity >"$WORK_TMP/$step.log" 2>&1 || rc=$? ;;
                lint) step_lint >"$WORK_TMP/$step.log" 2>&1 || rc=$? ;;
                release) step_release >"$WORK_TMP/$step.log" 2>&1 || rc=$? ;;
                docs) step_docs >"$WORK_TMP/$step.log" 2>&1 || rc=$? ;;
            esac
            echo "$((SECONDS - step_start))" >"$WORK_TMP/$step.seconds"
            echo "$rc" >"$WORK_TMP/$step.rc"
        done
    ) &
    background_pid=$!
fi

in_background() {
    local step
    for step in "${background[@]}"; do [ "$step" = "$1" ] && return 0; done
    return 1
}

# Wait until a background step has finished, print its output and set rc and start from it.
collect_background() {
    while [ ! -f "$WORK_TMP/$1.rc" ] && kill -0 "$background_pid" 2>/dev/null; do sleep 1; done
    echo "(ran in the background while pytest ran)"
    cat "$WORK_TMP/$1.log" 2>/dev/null || true
    rc="$(cat "$WORK_TMP/$1.rc" 2>/dev/null || echo 1)"
    start=$((SECONDS - $(cat "$WORK_TMP/$1.seconds" 2>/dev/null || echo 0)))
}

overall=0
for step in "${steps[@]}"; do
    echo
    echo "################ $step ################"
    start=$SECONDS
    rc=0
    case "$step" in
        unit) step_unit || rc=$? ;;
        sanity|lint|release|docs)
            if in_background "$step"; then
                collect_background "$step"
            else
                case "$step" in
                    sanity) step_sanity || rc=$? ;;
                    lint) step_lint || rc=$? ;;
                    release) step_release || rc=$? ;;
                    docs) step_docs || rc=$? ;;
                esac
            fi
            ;;
    esac
    took=$((SECONDS - start))
    if [ "$rc" -eq 0 ]; then
        results+=("$step: ok (${took}s)")
        [ "$step" = unit ] || n_passed=$((n_passed + 1))
    else
        results+=("$step: FAILED, exit code $rc (${took}s)")
        [ "$step" = unit ] || n_failed=$((n_failed + 1))
        failed_step="$step"
        overall=1
        break
    fi
done

# A failed step stops the run; background steps still running are waited for (their work dir goes with WORK_TMP).
if [ -n "${background_pid:-}" ]; then wait "$background_pid" 2>/dev/null || true; fi
print_summary
exit "$overall"
