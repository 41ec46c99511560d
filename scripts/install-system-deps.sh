#!/usr/bin/env bash
# Installs the Debian packages medic runs for real: prometheus (with promtool) for the sandbox, and
# postgresql for the tests of the PostgreSQL checkpoint and audit stores.
set -euo pipefail
missing=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "medic needs these Debian packages: ${missing[*]} (prometheus >= 2.40, postgresql >= 14)." >&2
  echo "This is not a Debian-like system: install them by hand and re-run." >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "medic needs these Debian packages: ${missing[*]}; installing them needs root." >&2
  echo "Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}   (then re-run this command)" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages from starting system services: medic starts its own, on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
