#!/usr/bin/env bash
# Installs the Debian packages medic's sandbox and tests run for real: prometheus (with promtool),
# kubectl is optional (tests that drive it run where the binary exists).
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "medic needs Debian's 'prometheus' package (prometheus and promtool on PATH)." >&2
  echo "This is not a Debian-like system: install Prometheus >= 2.40 by hand and re-run." >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "medic needs Debian's 'prometheus' package; installing it needs root." >&2
  echo "Run: sudo apt-get update && sudo apt-get install -y prometheus   (then re-run this command)" >&2
  exit 1
fi
echo "Installing Debian packages: prometheus"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
