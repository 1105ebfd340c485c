#!/usr/bin/env bash
# The main job: set everything up, then run playbooks/demo.yml.
#   - with CBC_URL (or CBAPI_URL) or CBC_PROFILE set: against the real Carbon Black Cloud, in check mode
#     unless CBC_DEMO_APPLY=yes;
#   - otherwise: against the bundled CBC simulator, started here and stopped on exit.
# Extra arguments go to ansible-playbook (e.g. ./scripts/demo.sh --check --diff -v).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_venv demo
ensure_collection_path
# localhost is all the demo needs: no inventory, so no warnings about one.
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
cd "$CBC_ROOT"

playbook_args=()
if [ -n "${CBC_URL:-${CBAPI_URL:-}}" ] || [ -n "${CBC_PROFILE:-}" ]; then
    # A real org: preview only (check mode) unless asked to apply the demo baseline, sensor canary and rollout.
    if [ "${CBC_DEMO_APPLY:-no}" != "yes" ]; then
        cbc_log "check mode: nothing is changed in your org (CBC_DEMO_APPLY=yes applies the demo)"
        playbook_args+=(--check)
    fi
    if [ -n "${CBC_PROFILE:-}" ]; then
        cbc_log "running playbooks/demo.yml against Carbon Black Cloud with credential profile '$CBC_PROFILE'"
        playbook_args+=(-e "{\"cbc_connection\": {\"profile\": \"$CBC_PROFILE\"}}")
    else
        cbc_log "running playbooks/demo.yml against ${CBC_URL:-$CBAPI_URL} with CBC_*/CBAPI_* credentials from the environment"
    fi
else
    state_dir="$CBC_ROOT/.sim/demo"
    rm -rf "$state_dir"
    mkdir -p "$state_dir"
    cbc_log "no CBC credentials in the environment: starting the CBC simulator (tests/simulator)"
    python "$CBC_ROOT/tests/simulator/cbcsim" --state-dir "$state_dir" --devices "${CBC_DEMO_DEVICES:-200}" \
        >"$state_dir/simulator.out" 2>&1 &
    sim_pid=$!
    trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 300); do
        [ -f "$state_dir/simulator.json" ] && break
        kill -0 "$sim_pid" 2>/dev/null || { cat "$state_dir/simulator.out" >&2; cbc_die "the simulator exited"; }
        sleep 0.1
    done
    [ -f "$state_dir/simulator.json" ] || cbc_die "the simulator did not start within 30 s (see $state_dir/simulator.out)"
    python - "$state_dir" <<'PY'
import json, sys
state = json.load(open(sys.argv[1] + "/simulator.json"))
connection = {
    "url": state["url"],
    "org_key": "ABCD1234",
    # The simulator's built-in full-access demo key (see tests/simulator/README.md): not a real secret.
    "token": "FULLSECRETKEY00000000000/FULLACCESS",
    "ssl_cert_file": state["ca_file"],
}
json.dump({"cbc_connection": connection}, open(sys.argv[1] + "/demo-vars.json", "w"))
print("CBC simulator at %s (request log: %s)" % (state["url"], state["log_file"]))
PY
    playbook_args+=(-e "@$state_dir/demo-vars.json")
    # None of the user's CBC_*/CBAPI_* settings (credentials, proxy, TLS) may leak into the simulator run.
    while IFS= read -r name; do
        case "$name" in
            CBC_ROOT|CBC_VENV|CBC_COLLECTIONS_DIR|CBC_PYTHON|CBC_DEMO_*) ;;
            *) unset "$name" ;;
        esac
    done < <(compgen -e | grep -E '^(CBC|CBAPI)_' || true)
fi

ansible-playbook playbooks/demo.yml "${playbook_args[@]}" "$@"
