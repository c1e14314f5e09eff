# shellcheck shell=bash
# Start a local PostgreSQL for the CRM's tests and export CRM_TEST_POSTGRES_URL.
#
# Developer use (Debian/Ubuntu with postgresql-common, as root or with sudo):
#     source .ci/start-postgres.sh          # starts it, exports CRM_TEST_POSTGRES_URL
#     swift test
#     crm_stop_postgres                     # stops it again, only if this file started it
# `bash .ci/start-postgres.sh` also works, but then only prints the URL.
# .ci/run sources this file and calls crm_stop_postgres from its EXIT trap.
#
# What it does, idempotently:
#   - installs Debian's `postgresql` if no server is installed (apt-get);
#   - picks the newest major version under /usr/lib/postgresql/*/bin and its
#     cluster (default "main"), creating the cluster if it does not exist;
#   - if the cluster is down: makes it listen on 127.0.0.1 only (a drop-in
#     conf.d/90-crm-listen.conf), on its configured port, or on a free port if
#     that one is taken (pg_conftool set port), and starts it
#     with Debian's pg_ctlcluster (no systemd needed). A cluster that is
#     already running is used as it is and left running;
#   - waits (pg_isready) until it accepts TCP connections;
#   - creates role crm (password crm) and database crm_test owned by it, if
#     missing, and resets the password to crm;
#   - exports CRM_TEST_POSTGRES_URL=postgres://crm:crm@127.0.0.1:PORT/crm_test
#     and checks it with psql.
#
# Uses Debian's cluster tools (pg_lsclusters, pg_createcluster, pg_ctlcluster,
# pg_conftool), not whatever `pg_ctl` is first on PATH (/usr/local/bin/pg_ctl
# may be a symlink or something else entirely).
#
# Settings (environment, all optional):
#   CRM_PG_VERSION        major version to use (default: newest installed)
#   CRM_PG_CLUSTER        cluster name (default: main)
#   CRM_PG_PORT           port to use when this script starts/creates the cluster
#                         (default: the cluster's own port, else 5432, else a free one)
#   CRM_PG_WAIT_SECONDS   how long to wait for the server (default: 60)
#   CRM_PG_ASSUME_OWNED=1 treat an already running cluster as started by us, so
#                         crm_stop_postgres stops it (.ci/run sets this when its
#                         own apt-get install may have started the server)
# Exported afterwards: CRM_TEST_POSTGRES_URL, CRM_PG_VERSION, CRM_PG_CLUSTER,
#   CRM_PG_PORT, CRM_PG_STARTED_BY_US (1 if crm_stop_postgres will stop it).
#
# This file is sourced into the caller's shell, so it sets no shell options
# and no traps; every function checks its own errors and returns non-zero.

_crm_pg_log() { printf '[postgres] %s\n' "$*" >&2; }

_crm_as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

_crm_as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

# Succeeds when something accepts TCP connections on 127.0.0.1:$1.
_crm_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Succeeds when another cluster (not $CRM_PG_VERSION/$CRM_PG_CLUSTER) is configured on port $1.
_crm_port_claimed_by_other_cluster() {
    pg_lsclusters -h 2>/dev/null | awk -v v="$CRM_PG_VERSION" -v c="$CRM_PG_CLUSTER" -v p="$1" \
        '$3 == p && !($1 == v && $2 == c) { found = 1 } END { exit !found }'
}

_crm_port_free() {
    ! _crm_port_in_use "$1" && ! _crm_port_claimed_by_other_cluster "$1" &&
        [[ ! -e "/var/run/postgresql/.s.PGSQL.$1" ]]
}

_crm_pick_free_port() {
    local p
    for p in 5432 $(seq 5433 5499); do
        if _crm_port_free "$p"; then echo "$p"; return 0; fi
    done
    _crm_pg_log "no free port in 5432-5499"
    return 1
}

# Prints "port status" of the cluster, or nothing if it does not exist.
_crm_cluster_info() {
    pg_lsclusters -h 2>/dev/null | awk -v v="$CRM_PG_VERSION" -v c="$CRM_PG_CLUSTER" \
        '$1 == v && $2 == c { print $3, $4 }'
}

_crm_pg_install_if_missing() {
    if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null; then
        return 0
    fi
    _crm_pg_log "installing postgresql (apt-get)"
    export CRM_PG_ASSUME_OWNED=1 # the package's postinst may start the new cluster
    _crm_as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600 update &&
        _crm_as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=600 \
            install --no-install-recommends postgresql >/dev/null ||
        { _crm_pg_log "apt-get install postgresql failed"; return 1; }
}

# listen_addresses = '127.0.0.1', as a drop-in in the cluster's conf.d (read
# after postgresql.conf); appended to postgresql.conf if it has no conf.d.
_crm_listen_on_loopback_only() {
    local confdir="/etc/postgresql/$CRM_PG_VERSION/$CRM_PG_CLUSTER" line="listen_addresses = '127.0.0.1'"
    local marker="# added by CRM .ci/start-postgres.sh"
    if grep -Eq "^[[:space:]]*include_dir[[:space:]]*=?[[:space:]]*'conf\.d'" "$confdir/postgresql.conf"; then
        printf '%s\n%s\n' "$marker" "$line" | _crm_as_root tee "$confdir/conf.d/90-crm-listen.conf" >/dev/null &&
            _crm_as_root chown postgres:postgres "$confdir/conf.d/90-crm-listen.conf"
    elif ! grep -qF "$marker" "$confdir/postgresql.conf"; then
        printf '%s\n%s\n' "$marker" "$line" | _crm_as_root tee -a "$confdir/postgresql.conf" >/dev/null
    fi || { _crm_pg_log "could not set listen_addresses in $confdir"; return 1; }
}

crm_start_postgres() {
    local user=crm password=crm db=crm_test
    local info port status wait deadline

    _crm_pg_install_if_missing || return 1

    if [[ -z "${CRM_PG_VERSION:-}" ]]; then
        CRM_PG_VERSION=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
            awk -F/ '{ print $5 }' | sort -n | tail -n 1)
    fi
    if [[ -z "$CRM_PG_VERSION" || ! -x "/usr/lib/postgresql/$CRM_PG_VERSION/bin/postgres" ]]; then
        _crm_pg_log "no PostgreSQL server found under /usr/lib/postgresql/*/bin"
        return 1
    fi
    CRM_PG_CLUSTER=${CRM_PG_CLUSTER:-main}
    export CRM_PG_VERSION CRM_PG_CLUSTER
    CRM_PG_STARTED_BY_US=0

    info=$(_crm_cluster_info)
    if [[ -z "$info" ]]; then
        port=${CRM_PG_PORT:-}
        if [[ -z "$port" ]]; then port=$(_crm_pick_free_port) || return 1; fi
        _crm_pg_log "creating cluster $CRM_PG_VERSION/$CRM_PG_CLUSTER on port $port"
        _crm_as_root pg_createcluster --port "$port" --locale C.UTF-8 --encoding UTF8 \
            "$CRM_PG_VERSION" "$CRM_PG_CLUSTER" >/dev/null ||
            { _crm_pg_log "pg_createcluster failed"; return 1; }
        info=$(_crm_cluster_info)
    fi
    read -r port status <<<"$info"

    if [[ "$status" == online* ]]; then
        _crm_pg_log "cluster $CRM_PG_VERSION/$CRM_PG_CLUSTER already running on port $port; using it"
        if [[ "${CRM_PG_ASSUME_OWNED:-0}" == 1 ]]; then CRM_PG_STARTED_BY_US=1; fi
    else
        if [[ -n "${CRM_PG_PORT:-}" ]]; then
            port=$CRM_PG_PORT
        elif ! _crm_port_free "$port"; then
            _crm_pg_log "port $port is taken"
            port=$(_crm_pick_free_port) || return 1
        fi
        _crm_listen_on_loopback_only || return 1
        _crm_as_root pg_conftool "$CRM_PG_VERSION" "$CRM_PG_CLUSTER" set port "$port" ||
            { _crm_pg_log "pg_conftool set port failed"; return 1; }
        _crm_pg_log "starting cluster $CRM_PG_VERSION/$CRM_PG_CLUSTER on 127.0.0.1:$port"
        if ! _crm_as_root pg_ctlcluster --skip-systemctl-redirect "$CRM_PG_VERSION" "$CRM_PG_CLUSTER" start; then
            _crm_pg_log "pg_ctlcluster start failed; end of the server log:"
            tail -n 10 "/var/log/postgresql/postgresql-$CRM_PG_VERSION-$CRM_PG_CLUSTER.log" >&2 2>/dev/null
            return 1
        fi
        CRM_PG_STARTED_BY_US=1
    fi
    CRM_PG_PORT=$port
    export CRM_PG_PORT CRM_PG_STARTED_BY_US

    wait=${CRM_PG_WAIT_SECONDS:-60}
    deadline=$((SECONDS + wait))
    until pg_isready -q -h 127.0.0.1 -p "$port" -t 2; do
        if ((SECONDS >= deadline)); then
            _crm_pg_log "server not ready on 127.0.0.1:$port after ${wait}s"
            return 1
        fi
        sleep 1
    done

    # Role and database, created if missing (the password is reset every time).
    _crm_as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >/dev/null <<SQL || { _crm_pg_log "creating role/database failed"; return 1; }
SELECT format('CREATE ROLE %I LOGIN', '$user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') \gexec
ALTER ROLE "$user" WITH LOGIN PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I', '$db', '$user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \gexec
ALTER DATABASE "$db" OWNER TO "$user";
SQL

    export CRM_TEST_POSTGRES_URL="postgres://$user:$password@127.0.0.1:$port/$db"
    if ! psql "$CRM_TEST_POSTGRES_URL" -X -q -A -t -c 'select 1' >/dev/null; then
        _crm_pg_log "cannot connect with $CRM_TEST_POSTGRES_URL"
        return 1
    fi
    _crm_pg_log "ready: CRM_TEST_POSTGRES_URL=$CRM_TEST_POSTGRES_URL (started here: $([[ $CRM_PG_STARTED_BY_US == 1 ]] && echo yes || echo no))"
}

# Stops the cluster only if crm_start_postgres started it.
crm_stop_postgres() {
    if [[ "${CRM_PG_STARTED_BY_US:-0}" == 1 ]]; then
        _crm_pg_log "stopping cluster $CRM_PG_VERSION/$CRM_PG_CLUSTER"
        _crm_as_root pg_ctlcluster --skip-systemctl-redirect "$CRM_PG_VERSION" "$CRM_PG_CLUSTER" stop -m fast ||
            { _crm_pg_log "pg_ctlcluster stop failed"; return 1; }
        CRM_PG_STARTED_BY_US=0
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    # Executed rather than sourced: start it and print the URL.
    crm_start_postgres || exit 1
    echo "export CRM_TEST_POSTGRES_URL=$CRM_TEST_POSTGRES_URL"
else
    crm_start_postgres || return 1
fi
