#!/bin/sh
# What the tests need beyond the .NET SDK, for the interop tests that run independent clients:
# - Go and the Debian-packaged libraries the deployed clients are built on (gorilla/websocket,
#   xtaci/smux), for the test that builds a real client;
# - Debian's chromium, whose own WebSocket is one independent client;
# - Node with the ws package pinned in Mtt.Tests/Interop/node (npm ci), the other one;
# - redis-server, which the cluster tests (-redis) start on free loopback ports (Debian's service is not used);
# - Debian's prometheus (12 packages, 96 MB installed), which the Grafana dashboard's test runs against the daemon;
# - for the release packages (build.ps1 package, Mtt.Tests/Packaging): clang, lld and zlib for NativeAOT, the
#   arm64 multiarch libraries to cross-link and run the arm64 binary, qemu-user-static to run it, and
#   systemd-analyze (Debian's systemd) to check the unit;
# Does nothing when all are installed. On a fresh Debian 12 machine: about 25 s for Go, about 25 s
# for chromium (25 packages, 124 MB), about 1 s for npm ci; Debian's nodejs and npm only when no
# node is installed at all.
set -eu
cd "$(dirname "$0")/.."
packages="openssl golang-go golang-github-gorilla-websocket-dev golang-github-xtaci-smux-dev chromium prometheus redis-server"
# zlib1g-dev with its architecture: once the arm64 one is installed too, dpkg -s of the bare name is ambiguous.
packages="$packages clang lld zlib1g-dev:$(dpkg --print-architecture) qemu-user-static systemd dpkg-dev"
# arm64 multiarch: what the NativeAOT cross-link needs (libc, libgcc and libstdc++ -dev, zlib) and what the
# emulated binary loads (libc, libstdc++, OpenSSL).
arm64="libc6:arm64 libc6-dev:arm64 libgcc-12-dev:arm64 libstdc++-12-dev:arm64 libstdc++6:arm64 libssl3:arm64 zlib1g-dev:arm64"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  arm64_missing=1
else
  for p in $arm64; do dpkg -s "$p" >/dev/null 2>&1 || arm64_missing=1; done
fi
missing=""
if [ -n "${arm64_missing:-}" ]; then
  missing="$missing $arm64"
fi
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-prerequisites: need root (or sudo) to apt-get install:$missing" >&2
    exit 1
  fi
  echo "install-test-prerequisites: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  if [ -n "${arm64_missing:-}" ]; then $sudo dpkg --add-architecture arm64; fi
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends $missing
fi

# npm ci installs exactly the lock file; skipped while the installed tree is newer than the lock file.
node_project=Mtt.Tests/Interop/node
if [ ! "$node_project/node_modules/.package-lock.json" -nt "$node_project/package-lock.json" ]; then
  echo "install-test-prerequisites: npm ci in $node_project"
  (cd "$node_project" && npm ci --no-audit --no-fund)
fi
