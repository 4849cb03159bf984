#!/bin/sh
# What the tests need beyond the .NET SDK: Go and the Debian-packaged libraries the deployed clients
# are built on (gorilla/websocket, xtaci/smux), for the interop test that builds a real client.
# Does nothing when they are installed; about 25 s on a fresh Debian 12 machine otherwise.
set -eu
packages="golang-go golang-github-gorilla-websocket-dev golang-github-xtaci-smux-dev"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-test-prerequisites: need root (or sudo) to apt-get install:$missing" >&2
  exit 1
fi
echo "install-test-prerequisites: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends $missing
