# Shared helpers for trit's scripts (sourced, not run).

trit_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# Installs the named Debian packages that are missing (apt-get update first, once).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building and testing trit needs on Debian 12.
TRIT_BUILD_PACKAGES=(cmake make g++ pkg-config libxsimd-dev libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev)

trit_jobs() { nproc 2>/dev/null || echo 2; }
