#!/usr/bin/env bash
# Installs what building and testing tslite needs, only when it is missing:
# Debian packages (apt-get; as root or through sudo) and the npm test tools
# pinned in package-lock.json (npm ci). Safe to run repeatedly.
set -eo pipefail
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config sqlite3 libsqlite3-dev libcurl4-openssl-dev libssl-dev
      zlib1g-dev libzstd-dev liblz4-dev libexpat1-dev python3 nodejs npm clang libclang-rt-dev"
if [ "${1:-}" = "--build-only" ]; then
  PKGS="build-essential pkg-config sqlite3 libsqlite3-dev libcurl4-openssl-dev libssl-dev
        zlib1g-dev libzstd-dev liblz4-dev libexpat1-dev"
fi

missing=""
for p in $PKGS; do
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm)    command -v npm  >/dev/null 2>&1 && continue ;;
  esac
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

[ "${1:-}" = "--build-only" ] && exit 0

# npm test tools: reinstall when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
