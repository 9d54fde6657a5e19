# shellcheck shell=bash
# Toolchain provisioning shared by scripts/test, scripts/run and scripts/demo.
#
# Home Assistant needs Python >= 3.14.2. We use the machine's python3.14 when it is
# new enough; otherwise, on a Debian/Ubuntu machine as root, we build a Debian sid
# root (which packages python3.14) under .toolchain/ and run everything inside it.
# Every run reuses what exists and reinstalls Python packages only when the pinned
# requirements change.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# EVCM_TOOLCHAIN_DIR lets several checkouts (git worktrees) share one provisioned toolchain.
TOOLCHAIN="${EVCM_TOOLCHAIN_DIR:-$REPO/.toolchain}"
SID_ROOT="$TOOLCHAIN/sid"
REQUIREMENTS=("$REPO/requirements/test.txt")
SID_BASE_PACKAGES="python3.14,python3.14-venv,python3.14-dev,ca-certificates,gcc,libc6-dev,procps"
# Installed with apt inside the root after debootstrap: chromium's desktop dependencies
# do not configure during debootstrap's second stage.
SID_EXTRA_PACKAGES="chromium fonts-dejavu-core poppler-utils g++"
MIN_PY="3.14.2"

die() { echo "error: $*" >&2; exit 2; }
note() { echo ">> $*" >&2; }

python_is_new_enough() {
  "$1" -c "import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)" 2>/dev/null
}

requirements_digest() {
  cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1
}

# Decide the mode once: "host" (a good python3.14 here) or "sid" (the chroot).
toolchain_mode() {
  if [ -n "${EVCM_TOOLCHAIN:-}" ]; then echo "$EVCM_TOOLCHAIN"; return; fi
  local py
  py="$(command -v python3.14 || true)"
  if [ -n "$py" ] && python_is_new_enough "$py"; then echo host; else echo sid; fi
}

# One virtual environment per lock: a checkout on another lock (a branch, a git worktree
# sharing EVCM_TOOLCHAIN_DIR) gets its own instead of reinstalling the shared one.
venv_name() {
  echo "venv-$(requirements_digest | cut -c1-12)"
}

provision_host() {
  local py venv
  py="$(command -v python3.14)"
  venv="$TOOLCHAIN/$(venv_name)"
  if [ ! -f "$venv/.installed" ]; then
    note "creating virtual environment $venv with $py"
    rm -rf "$venv"
    "$py" -m venv "$venv" || die "could not create a venv with $py (install python3.14-venv)"
    install_requirements "$venv/bin/python" "$venv/bin/python"
    touch "$venv/.installed"
  fi
}

provision_sid() {
  [ "$(id -u)" = 0 ] || die "no python3 >= $MIN_PY on this machine and not root: install Python $MIN_PY or newer as python3.14 (or run as root to build a Debian sid toolchain root)"
  if [ ! -x "$SID_ROOT/usr/bin/python3.14" ]; then
    command -v apt-get >/dev/null || die "no python3 >= $MIN_PY and no apt-get: install Python $MIN_PY or newer as python3.14"
    if ! command -v debootstrap >/dev/null; then
      note "installing debootstrap"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >&2 \
        || die "could not install debootstrap: run 'apt-get install debootstrap' and retry"
    fi
    note "building a Debian sid root with Python 3.14 in $SID_ROOT (about a minute)"
    rm -rf "$SID_ROOT.partial"
    mkdir -p "$TOOLCHAIN"
    debootstrap --variant=minbase --include="$SID_BASE_PACKAGES" sid "$SID_ROOT.partial" \
      http://deb.debian.org/debian >"$TOOLCHAIN/debootstrap.log" 2>&1 \
      || die "debootstrap failed, see $TOOLCHAIN/debootstrap.log"
    mv "$SID_ROOT.partial" "$SID_ROOT"
  fi
  mkdir -p "$SID_ROOT/src"
  cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf"
  # The host's certificate bundle may hold a local proxy's CA that the registries need.
  cp /etc/ssl/certs/ca-certificates.crt "$SID_ROOT/etc/ssl/certs/ca-certificates.crt"
  # The package mirror may serve a frozen snapshot whose Release file has expired.
  echo 'Acquire::Check-Valid-Until "false";' >"$SID_ROOT/etc/apt/apt.conf.d/99snapshot"
  # Packages are only ever added, so checkouts on older and newer lists can share a root.
  local extra_stamp="$TOOLCHAIN/sid-packages.installed" package missing=()
  for package in $SID_EXTRA_PACKAGES; do
    grep -qx "$package" "$extra_stamp" 2>/dev/null || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    note "installing ${missing[*]} inside the sid root"
    in_sid sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}" \
      >"$TOOLCHAIN/apt-extra.log" 2>&1 || die "apt-get install inside the sid root failed, see $TOOLCHAIN/apt-extra.log"
    printf '%s\n' "${missing[@]}" >>"$extra_stamp"
  fi
  local venv
  venv="/opt/$(venv_name)"
  if [ ! -f "$SID_ROOT$venv/.installed" ]; then
    note "creating virtual environment $venv inside the sid root"
    rm -rf "$SID_ROOT$venv"
    in_sid /usr/bin/python3.14 -m venv "$venv" || die "could not create the venv inside $SID_ROOT"
    install_requirements "$SID_ROOT$venv/bin/python" "$venv/bin/python"
    touch "$SID_ROOT$venv/.installed"
  fi
}

# install_requirements HOST_PATH_OF_PYTHON PYTHON_AS_THE_TOOLCHAIN_SEES_IT
install_requirements() {
  note "installing pinned Python packages (requirements/test.txt)"
  local r args=(-m pip install --quiet --disable-pip-version-check --no-input)
  if [ "$(toolchain_mode)" = host ]; then
    for r in "${REQUIREMENTS[@]}"; do args+=(-r "$r"); done
    "$1" "${args[@]}" >&2 || die "pip install failed"
  else
    for r in "${REQUIREMENTS[@]}"; do args+=(-r "/src/${r#"$REPO"/}"); done
    in_sid env -u PIP_FIND_LINKS PIP_CERT=/etc/ssl/certs/ca-certificates.crt "$2" "${args[@]}" >&2 \
      || die "pip install failed inside the sid root"
  fi
}

provision() {
  mkdir -p "$TOOLCHAIN"
  case "$(toolchain_mode)" in
    host) provision_host ;;
    sid) provision_sid ;;
    *) die "EVCM_TOOLCHAIN must be 'host' or 'sid'" ;;
  esac
}

# Run a command inside the sid root with the repository at /src. The mounts live in a
# private mount namespace, so they vanish when the command ends and deleting
# .toolchain can never reach the host's files.
in_sid() {
  local quoted
  printf -v quoted '%q ' "$@"
  unshare --mount --propagation private sh -c '
    set -e
    mount --bind "$1" "$2/src"
    mount -t proc proc "$2/proc"
    mount -t tmpfs -o size=2g tmpfs "$2/dev/shm" 2>/dev/null || true
    exec chroot "$2" /bin/bash -c "cd /src && exec $3"
  ' sh "$REPO" "$SID_ROOT" "$quoted"
}

# Run a command with the provisioned Python first on PATH, in the repo's root.
in_toolchain() {
  local env_vars=(PYTHONPATH="" PYTHONDONTWRITEBYTECODE=1)
  case "$(toolchain_mode)" in
    host)
      (cd "$REPO" && env "${env_vars[@]}" PATH="$TOOLCHAIN/$(venv_name)/bin:$PATH" "$@") ;;
    sid)
      in_sid env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
        EVCM_IN_TOOLCHAIN=sid "${env_vars[@]}" PATH="/opt/$(venv_name)/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$@" ;;
  esac
}
