#!/bin/sh
# Installs code-server (VS Code in a browser) from the npm registry, for the end-to-end tests.
# Usage: scripts/install-code-server.sh [DEST_DIR]      (default: .e2e/code-server)
#   -> DEST_DIR/node_modules/.bin/code-server
# Skips everything when DEST_DIR already holds a working code-server of the wanted version.
#
# Why not a plain `npm install code-server`: its postinstall runs `npm install` in lib/vscode, where
# @vscode/ripgrep's postinstall downloads rg from api.github.com (fails without internet access,
# after ~90 s of retries). So: install with --ignore-scripts, pre-seed @vscode/ripgrep/bin/rg with
# the system's ripgrep, `npm rebuild` the native modules against the local Node headers, then
# replay the rest of code-server's postinstall.sh by hand.
#
# Needs: Node 20 (code-server 4.100.3 is the last release whose engines.node is 20; 4.103.2+ want
# Node 22, the latest wants 24), python3, make, g++, and the Debian/Ubuntu packages
#   apt-get install chromium ripgrep libkrb5-dev
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/.e2e/code-server}
CS_VERSION=${CS_VERSION:-4.100.3}
BIN="$DEST/node_modules/.bin/code-server"

if [ -x "$BIN" ] && [ -f "$DEST/.installed-$CS_VERSION" ]; then
  echo "code-server $CS_VERSION already installed in $DEST"
  exit 0
fi

missing=""
command -v rg >/dev/null 2>&1 || missing="$missing ripgrep"
[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || missing="$missing libkrb5-dev"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
if [ -n "$missing" ]; then
  echo "missing:$missing  (e.g. apt-get install chromium ripgrep libkrb5-dev build-essential)" >&2
  exit 1
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" = 20 ] || echo "warning: code-server $CS_VERSION expects Node 20, this is $(node --version)" >&2

# Build native modules against the installed Node headers when present (no header download).
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
export JOBS=${JOBS:-max}          # node-gyp parallel make
export npm_config_yes=true        # node-pty's postinstall runs `npx node-gyp ...`

ts() { date +%s; }
T0=$(ts)
mkdir -p "$DEST"
cd "$DEST"
[ -f package.json ] || echo '{ "name": "crate-lens-e2e-code-server", "private": true }' > package.json
npm install --ignore-scripts --no-audit --no-fund "code-server@$CS_VERSION"
T1=$(ts); echo "== code-server and its dependencies: $((T1-T0)) s"

# argon2 (password auth) is required at load time by out/node/util.js; its prebuilt download fails
# without internet access and it then builds from source.
npm rebuild argon2
T2=$(ts); echo "== argon2: $((T2-T1)) s"

cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg   # its postinstall sees bin/ and exits 0
npm rebuild    # node-gyp: spdlog, node-pty, native-watchdog, kerberos, deviceid, ...
T3=$(ts); echo "== lib/vscode dependencies and native modules: $((T3-T2)) s"

# The rest of code-server's postinstall.sh.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --no-audit --no-fund)
T4=$(ts); echo "== built-in extensions: $((T4-T3)) s"

# --version writes a default config.yaml under XDG_CONFIG_HOME: keep it out of the real home.
HOME="$DEST/.home" XDG_CONFIG_HOME="$DEST/.home/.config" XDG_DATA_HOME="$DEST/.home/.local/share" "$BIN" --version
touch "$DEST/.installed-$CS_VERSION"
echo "== code-server $CS_VERSION installed in $DEST in $((T4-T0)) s"
