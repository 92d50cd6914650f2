#!/usr/bin/env bash
# Refresh constraints.txt to the newest releases of everything the tests install, then run the
# whole suite on them (bash scripts/test.sh installs from the new lock). Review `git diff
# constraints.txt` before committing it; a golden file that changes with a library's output is
# regenerated with `python tests/regen_golden.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q '.[test]'
{
  sed -n '1,2p' constraints.txt
  "$venv/bin/python" -m pip freeze --exclude-editable | grep -v '^bitopia[-_]site'
} > constraints.txt.new
mv constraints.txt.new constraints.txt
git --no-pager diff --stat -- constraints.txt || true
exec bash scripts/test.sh "$@"
