#!/usr/bin/env bash
# The README's screenshots of the browser interface: the flow test's pages, saved here.
# Needs what the tests need (MariaDB, RabbitMQ, /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
TWOWAY_UI_SCREENSHOTS="$out" .venv/bin/python -m pytest -q tests/ui/test_flow.py -p no:cacheprovider
for name in overview-after customer-failed dead-letters; do
  cp "$out"/*-"$name".png "docs/ui/$name.png"
done
rm -r "$out"
echo "docs/ui/*.png updated"
