# Shared helpers for scripts/run, scripts/test and scripts/bench. Source it; don't run it.

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

# Makes sure cargo is on PATH.
ensure_cargo() {
  [[ -d $HOME/.cargo/bin ]] && export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust from https://rustup.rs (rustc >= 1.94)"
}

# Text extraction tools: poppler (pdftotext, pdftoppm, with the CJK CMaps of poppler-data)
# and Tesseract OCR with Simplified and Traditional Chinese and English.
ensure_extraction_tools() {
  ensure_packages pdftotext:poppler-utils /usr/share/poppler/cMap:poppler-data \
    tesseract:tesseract-ocr \
    /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata:tesseract-ocr-chi-sim \
    /usr/share/tesseract-ocr/5/tessdata/chi_tra.traineddata:tesseract-ocr-chi-tra \
    /usr/share/tesseract-ocr/5/tessdata/eng.traineddata:tesseract-ocr-eng
}
