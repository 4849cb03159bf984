#!/bin/sh
# Go and the Debian-packaged libraries the deployed clients are built on, for SmuxGoInteropTests.
# About 25 s on a fresh Debian 12 machine (apt-get update included).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends golang-go golang-github-gorilla-websocket-dev golang-github-xtaci-smux-dev
