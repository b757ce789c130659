# Sourced by .ci/run and the prebuild scripts: `need_pkg <command or absolute path> <debian package>`
# installs the Debian package when the command (or the file) is missing (apt-get update once per run),
# as root or through sudo.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
have() { case "$1" in /*) [ -e "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac; }
need_pkg() {
  if ! have "$1"; then
    if [ "$apt_updated" -eq 0 ]; then as_root apt-get update; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$2"
  fi
}
