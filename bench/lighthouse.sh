#!/usr/bin/env bash
# `make lighthouse`: serves the app with the sample library on a free port on 127.0.0.1
# (gunicorn, a throw-away instance folder), signs in as the demo learner and runs Lighthouse
# (mobile, the default) on the home page, a search results page and a case page; prints the
# scores and main metrics and keeps the JSON reports in bench/lighthouse/.
#
# Lighthouse is not a project dependency; install it once, outside the project:
#   npm i -E lighthouse@12.2.3 --prefix ~/.cache/every-seat/lighthouse --no-audit --no-fund
# and point LIGHTHOUSE_PREFIX at that folder (default ~/.cache/every-seat/lighthouse), or
# LIGHTHOUSE at the executable, or have `lighthouse` on PATH. It drives CHROME_PATH
# (default /usr/bin/chromium). LIGHTHOUSE_ARGS adds options, e.g.
# LIGHTHOUSE_ARGS=--throttling-method=devtools (Chrome really slows the network and CPU,
# instead of Lighthouse simulating it from an unthrottled load).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="$root/.venv/bin"

lighthouse="${LIGHTHOUSE:-}"
if [[ -z "$lighthouse" ]]; then
  prefix="${LIGHTHOUSE_PREFIX:-$HOME/.cache/every-seat/lighthouse}"
  if [[ -x "$prefix/node_modules/.bin/lighthouse" ]]; then
    lighthouse="$prefix/node_modules/.bin/lighthouse"
  elif command -v lighthouse >/dev/null; then
    lighthouse="$(command -v lighthouse)"
  else
    echo "lighthouse not found. Install it outside the project:" >&2
    echo "  npm i -E lighthouse@12.2.3 --prefix ~/.cache/every-seat/lighthouse --no-audit --no-fund" >&2
    echo "then run: make lighthouse LIGHTHOUSE_PREFIX=~/.cache/every-seat/lighthouse" >&2
    exit 2
  fi
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"

port="$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
instance="$(mktemp -d)"
out="$root/bench/lighthouse"
mkdir -p "$out"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$instance"
}
trap cleanup EXIT

export EVERY_SEAT_INSTANCE="$instance"
"$bin/flask" --app app setup-demo >"$instance/setup.log" 2>&1
"$bin/gunicorn" --workers 2 --bind "127.0.0.1:$port" --limit-request-line 0 --log-level warning 'app:create_app()' &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fso /dev/null "$base/login" && break
  sleep 0.2
done

# Sign in as the demo learner; Lighthouse sends the session cookie with every request.
# A facilitator's guide of three sample cases with their suggested plans, for the builder page.
guide_id="$("$bin/python" - <<'PY'
from app import create_app
from casestudies.extensions import db
from casestudies.guides import editing
from casestudies.models import Case, User

app = create_app()
with app.app_context():
    facilitator = db.session.query(User).filter_by(email="facilitator@every-seat.example").one()
    cases = db.session.query(Case).filter(Case.status == "published").order_by(Case.id).limit(3).all()
    guide, _ = editing.create_guide(facilitator, editing.GuideDetails(title="A session on speaking up", duration_minutes=90))
    for case in cases:
        editing.add_case(guide, case.id)
    db.session.commit()
    print(guide.id)
PY
)"

sign_in() {  # sign_in ROLE -> the session cookie of the demo account of that role
  local role="$1" jar="$instance/cookies-$1" password token
  password="$(awk -v r="$role" '$1 == r { print $3 }' "$instance/demo-accounts.txt")"
  token="$(curl -fs -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | sed 's/.*value="//; s/"$//' | head -1)"
  curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" \
    --data-urlencode "email=$role@every-seat.example" --data-urlencode "password=$password" "$base/login"
  awk '$6 == "session" { print $7 }' "$jar"
}
learner_session="$(sign_in learner)"
facilitator_session="$(sign_in facilitator)"
if [[ -z "$learner_session" || -z "$facilitator_session" ]]; then
  echo "could not sign in as the demo learner and facilitator" >&2
  exit 1
fi
case_path="$(curl -fs -b "session=$learner_session" "$base/cases" | grep -o 'href="/cases/[a-z0-9-]*"' | head -1 | sed 's/href="\(.*\)"/\1/')"

# name, path, whose session
pages=("home / learner" "search /search?q=team learner" "case $case_path learner" "notebook /my/notebook learner"
  "builder /guides/$guide_id facilitator")
for page in "${pages[@]}"; do
  read -r name path role <<<"$page"
  session_var="${role}_session"
  headers="{\"Cookie\": \"session=${!session_var}\"}"
  "$lighthouse" "$base$path" --quiet --output=json --output-path="$out/$name.json" \
    --only-categories=performance,accessibility,best-practices \
    --chrome-flags="--headless=new --no-sandbox" --extra-headers="$headers" ${LIGHTHOUSE_ARGS:-}
done

node - "$out" <<'EOF'
const { readFileSync } = require('node:fs');
const dir = process.argv[2];
const row = (cells) => console.log(cells.map((c, i) => String(c).padEnd(i ? 12 : 8)).join(''));
row(['page', 'perf', 'a11y', 'best-pr.', 'FCP ms', 'LCP ms', 'TBT ms', 'CLS', 'SI ms', 'CSS unused (transfer)']);
for (const name of ['home', 'search', 'case', 'notebook', 'builder']) {
  const r = JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8'));
  const score = (c) => Math.round(r.categories[c].score * 100);
  const ms = (a) => Math.round(r.audits[a].numericValue);
  const unused = r.audits['unused-css-rules'].details?.items ?? [];
  const wasted = unused.reduce((n, i) => n + i.wastedBytes, 0);
  row([name, score('performance'), score('accessibility'), score('best-practices'),
    ms('first-contentful-paint'), ms('largest-contentful-paint'), ms('total-blocking-time'),
    r.audits['cumulative-layout-shift'].numericValue.toFixed(3), ms('speed-index'),
    `${(wasted / 1024).toFixed(1)} KiB (${unused.length ? unused[0].wastedPercent.toFixed(0) : 0}%)`]);
}
EOF
