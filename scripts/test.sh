#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  need=""
  for pkg in chromium nginx-light default-jre-headless; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
  done
  if [ -n "$need" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi
# the versions in constraints.txt, so every machine tests the same code (scripts/refresh-lock.sh renews it)
python3 -m pip install -q -c constraints.txt -e '.[test]'
exec python3 -m pytest -q "$@"
