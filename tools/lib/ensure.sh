# Installs what tools/test and tools/demo need and a fresh machine lacks.
# Sourced, not run: each function is idempotent and quiet when nothing is missing.

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_system_packages() {
  # rpmbuild and rpm judge the packager's output; procps gives ps for the process tests.
  command -v rpmbuild >/dev/null 2>&1 || { echo "installing rpm (rpmbuild) ..."; apt_install rpm; }
  # rpmlint judges the packager's RPMs as a distribution would (the packager tests fail without it).
  command -v rpmlint >/dev/null 2>&1 || { echo "installing rpmlint ..."; apt_install rpmlint; }
  # The packager tests apply the RPMs' presets and check their units and man pages for real.
  command -v systemd-analyze >/dev/null 2>&1 || { echo "installing systemd (systemctl, systemd-analyze) ..."; apt_install systemd; }
  command -v man >/dev/null 2>&1 || apt_install man-db
  command -v ps >/dev/null 2>&1 || apt_install procps
  # promtool (Debian's prometheus) checks /metrics and the shipped alert rules as Prometheus would.
  command -v promtool >/dev/null 2>&1 || { echo "installing prometheus (promtool) ..."; apt_install prometheus; }
  # The real pyzmq checks @osad2/keys' certificate files both ways (Debian's python3, not pyenv's).
  /usr/bin/python3 -c "import zmq.auth" >/dev/null 2>&1 || { echo "installing python3-zmq ..."; apt_install python3-zmq; }
}

ensure_postgres() {
  # Spacewalk's production database; this machine kind runs it, but it may have been stopped.
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL ..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

ensure_node_modules() {
  # npm ci only when the installed tree does not match the lock file.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "installing npm packages (npm ci) ..."
    npm ci --no-audit --no-fund
  fi
}
