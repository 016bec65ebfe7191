# Shared helpers for scripts/run, scripts/test and scripts/bench. Source it; don't run it.

# The SQL of the queries is checked against .sqlx/, never against whatever DATABASE_URL the
# caller's shell holds (a server without dangan's schema would fail the build).
# scripts/sqlx-prepare turns this off for its own scratch database.
export SQLX_OFFLINE=true

# Prints a step so long runs show where they are.
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs missing Debian packages: with apt-get when root, otherwise it prints the command.
# Usage: ensure_packages COMMAND:PACKAGE ...   (a PACKAGE is installed if COMMAND is missing;
# a COMMAND starting with / is a file to test for instead)
ensure_packages() {
  local missing=() spec check package
  for spec in "$@"; do
    check=${spec%%:*}; package=${spec#*:}
    if [[ $check == /* ]]; then [[ -e $check ]] && continue
    else command -v "$check" >/dev/null 2>&1 && continue
    fi
    missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    step "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing system packages; install them with: sudo apt-get install ${missing[*]}"
  fi
}

# The directory with PostgreSQL's server programs (initdb, postgres, pg_ctl), or nothing.
pg_bindir() {
  local dir
  for dir in "${PG_BIN:-}" "$(pg_config --bindir 2>/dev/null)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -n $dir && -x $dir/initdb && -x $dir/postgres ]] && { echo "$dir"; return 0; }
  done
  return 1
}

# Makes sure PostgreSQL's server programs are installed.
ensure_postgres_binaries() {
  pg_bindir >/dev/null && return 0
  ensure_packages /nonexistent-postgresql-marker:postgresql
  pg_bindir >/dev/null || die "PostgreSQL server programs not found even after installing; set PG_BIN"
}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Sets DATABASE_URL: as given, else the server on 127.0.0.1:5432 when it answers, else a
# throwaway cluster (locale C.UTF-8, fsync off) that stop_throwaway_cluster removes: call
# that from the caller's EXIT trap.
ensure_database_url() {
  [[ -n ${DATABASE_URL:-} ]] && return 0
  ensure_postgres_binaries
  local bindir; bindir=$(pg_bindir)
  if "$bindir/psql" -h 127.0.0.1 -p 5432 -U postgres -d postgres -qtAX -c 'select 1' >/dev/null 2>&1; then
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
    step "using the PostgreSQL server on 127.0.0.1:5432"
    return 0
  fi
  local port=54329
  while (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  throwaway_cluster=$(mktemp -d /tmp/dangan-test-pg.XXXXXX)
  chmod 755 "$throwaway_cluster"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$throwaway_cluster"
  step "starting a throwaway PostgreSQL on 127.0.0.1:$port ($throwaway_cluster)"
  as_postgres "$bindir/initdb" -D "$throwaway_cluster/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  as_postgres "$bindir/pg_ctl" -D "$throwaway_cluster/data" -l "$throwaway_cluster/postgres.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $throwaway_cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Stops and removes the cluster ensure_database_url started, if it did.
stop_throwaway_cluster() {
  [[ -n ${throwaway_cluster:-} ]] || return 0
  as_postgres "$(pg_bindir)/pg_ctl" -D "$throwaway_cluster/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$throwaway_cluster"
  throwaway_cluster=""
}

# Makes sure cargo is on PATH.
ensure_cargo() {
  [[ -d $HOME/.cargo/bin ]] && export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust from https://rustup.rs (rustc >= 1.94)"
}

# Text extraction and printing tools: poppler (pdftotext, pdftoppm, with the CJK CMaps of
# poppler-data; its C++ library, which the text-layer reader dangan-pdftext is built with),
# Tesseract OCR with Simplified and Traditional Chinese and English, and the Noto CJK fonts
# that printed PDFs (labels, forms, watermarks) embed.
ensure_extraction_tools() {
  ensure_packages pdftotext:poppler-utils /usr/share/poppler/cMap:poppler-data \
    /usr/include/poppler/cpp/poppler-document.h:libpoppler-cpp-dev pkg-config:pkg-config \
    g++:g++ \
    tesseract:tesseract-ocr \
    /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata:tesseract-ocr-chi-sim \
    /usr/share/tesseract-ocr/5/tessdata/chi_tra.traineddata:tesseract-ocr-chi-tra \
    /usr/share/tesseract-ocr/5/tessdata/eng.traineddata:tesseract-ocr-eng \
    /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc:fonts-noto-cjk
}

# The browser tests' Chromium and ChromeDriver, with CJK fonts so pages render as users see
# them.
ensure_browser() {
  ensure_packages chromium:chromium chromedriver:chromium-driver \
    /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc:fonts-noto-cjk
}

# Starts a release dangan on a free port with its data in $work/data; sets $base, $token and
# $server_pid (the caller kills it). Needs $work and $target_dir.
start_dangan() {
  step "building dangan (release)"
  cargo build --release --locked --quiet
  [[ -z ${DANGAN_DATABASE_URL:-} ]] && ensure_postgres_binaries
  local port=18080
  while (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  base="http://127.0.0.1:$port"
  # a copy: a later cargo run (the benchmark's own) may replace the built binary, and a
  # profiler attached to the server then finds no symbols
  cp "$target_dir/release/dangan" "$target_dir/release/dangan-sandbox" \
    "$target_dir/release/dangan-pdftext" "$work/"
  DANGAN_DATA_DIR="$work/data" DANGAN_LISTEN="127.0.0.1:$port" DANGAN_ADMIN_PASSWORD=bench-password \
    DANGAN_MAX_UPLOAD_BYTES=$((64 * 1024 * 1024 * 1024)) RUST_LOG=warn \
    "$work/dangan" serve 2>"$work/dangan.log" &
  server_pid=$!
  for _ in $(seq 600); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/dangan.log"; die "dangan exited"; }
    sleep 0.1
  done
  token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"admin","password":"bench-password"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [[ -n $token ]] || die "login failed"
}
