#!/usr/bin/env bash
# Renders the sample's report.html as a person sees it, with headless Chromium, into
# docs/report.png (SPEC §5.2). Installs Chromium if missing (Debian: apt-get).
#
# Three nightly runs on one ledger, so the picture shows the changes and the trend too: the first
# two nights scan the sample export without its last rows (as if those cases had not been decided
# yet), the third the whole export.
#
#   scripts/render_report.sh [EXPORT]     # default: fixtures/sample_export.csv
set -euo pipefail
cd "$(dirname "$0")/.."

export="${1:-fixtures/sample_export.csv}"
[ -f "$export" ] || export=fixtures/nightly/night3.csv

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    apt-get update && apt-get install -y chromium
    browser=$(command -v chromium)
fi

cargo build --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rows=$(($(wc -l < "$export") - 1))
head -n $((1 + rows * 8 / 10)) "$export" > "$work/night1.csv"
head -n $((1 + rows * 9 / 10)) "$export" > "$work/night2.csv"
cp "$export" "$work/night3.csv"
for night in 1 2 3; do
    (cd "$work" && TZ=Europe/Copenhagen "$OLDPWD/target/debug/genoptag" scan --quiet \
        --out out --ledger ledger.db "night$night.csv")
done

mkdir -p docs
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --screenshot="$PWD/docs/report.png" --window-size=1200,2000 \
    "file://$work/out/report.html" 2>/dev/null
echo "docs/report.png rendered from $export"
