#!/usr/bin/env bash
# Installs, starts and stops the real servers the integration suite runs
# against, all listening on 127.0.0.1 only:
#
#   Kafka 4.1.1   single-node KRaft broker+controller on :9092 (controller :9093),
#                 run from the jars Maven resolves for integration/kafka/pom.xml
#   MinIO         S3 endpoint on :9000 (console :9001), built with go install
#   Python venv   duckdb, pyarrow and confluent-kafka as independent witnesses
#   kcat          from Debian, for a librdkafka view of the broker
#
# Usage: integration/services.sh install|start|stop|status|env|bucket NAME
#
#   install  fetch or build whatever is missing; a no-op when the cache is warm
#   start    (re)start every service on fresh, empty data directories
#   stop     stop the services this script started
#   status   say what runs; exits 3 when a service is down
#   env      print `export VAR=...` lines, for eval "$(integration/services.sh env)"
#   bucket   create the bucket NAME on the S3 endpoint, if it does not exist
#
# Everything downloaded, built or written lives under
# ${TRIBUTARY_CACHE:-$HOME/.cache/tributary}, never in the work tree, so a
# second install is instant and a start takes seconds.
#
# A service whose address the caller already exported is left alone: with
# TRIBUTARY_KAFKA_BROKERS set no broker is started, with TRIBUTARY_S3_ENDPOINT
# set no MinIO is started, and with TRIBUTARY_PYTHON set no venv is built.
# The variables `env` printed for the services this script runs do not count
# (it lists those in TRIBUTARY_SERVICES_MANAGED).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${TRIBUTARY_CACHE:-$HOME/.cache/tributary}
RUN=$CACHE/run

KAFKA_VERSION=4.1.1
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_POM=$ROOT/integration/kafka/pom.xml
KAFKA_ADDR=127.0.0.1:9092
KAFKA_CONTROLLER_ADDR=127.0.0.1:9093

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_BIN=$CACHE/bin/minio-$MINIO_VERSION/minio
MINIO_ADDR=127.0.0.1:9000
MINIO_CONSOLE_ADDR=127.0.0.1:9001
# Fixed credentials: the server only listens on loopback and holds test data.
S3_ACCESS_KEY=tributary
S3_SECRET_KEY=tributary-secret

VENV=$CACHE/venv
PY_REQUIREMENTS=$ROOT/integration/python-requirements.txt

# How long a service may take to answer after it was launched.
START_TIMEOUT=${TRIBUTARY_START_TIMEOUT:-90}

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# stamp prints a digest of the given files; install steps compare it with the
# one they left behind, so editing the pom or the requirements reinstalls.
stamp() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- install

install_kafka() {
    local libs=$KAFKA_HOME/libs want
    want=$(stamp "$KAFKA_POM")
    if [[ -f $libs/.stamp && $(cat "$libs/.stamp") == "$want" ]]; then
        return
    fi
    command -v java >/dev/null || die "java not found: Kafka needs Java 17 or later"
    command -v mvn >/dev/null || die "mvn not found: the Kafka jars are resolved with Maven"
    log "resolving Kafka $KAFKA_VERSION jars into $libs"

    # Copy into a scratch directory and swap it in whole, so an interrupted
    # install never leaves a half-filled libs directory that looks complete.
    rm -rf "$libs.tmp"
    local mvn_log=$CACHE/kafka-install.log
    mvn -B -f "$KAFKA_POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >"$mvn_log" 2>&1 ||
        { tail -n 30 "$mvn_log" >&2; die "Maven failed; its log is $mvn_log"; }
    echo "$want" >"$libs.tmp/.stamp"
    rm -rf "$libs"
    mv "$libs.tmp" "$libs"
}

# minio_build_running tells whether some go install of MinIO is under way,
# for instance one started by hand or by a concurrent install.
minio_build_running() {
    command -v pgrep >/dev/null && pgrep -f "go install $MINIO_MODULE@" >/dev/null
}

install_minio() {
    if [[ ! -x $MINIO_BIN ]] && minio_build_running; then
        log "waiting for the MinIO build already running"
        while minio_build_running; do sleep 5; done
    fi
    [[ -x $MINIO_BIN ]] && return
    command -v go >/dev/null || die "go not found: MinIO is built with go install"

    local bin_dir tmp_dir
    bin_dir=$(dirname "$MINIO_BIN")
    tmp_dir=$bin_dir.tmp
    log "building MinIO $MINIO_VERSION (several minutes on a cold module cache)"
    rm -rf "$tmp_dir"
    mkdir -p "$tmp_dir"
    # Outside the work tree, so the project's go.mod plays no part.
    (cd / && GOBIN=$tmp_dir GOFLAGS=-mod=mod go install "$MINIO_MODULE@$MINIO_VERSION")
    mkdir -p "$bin_dir"
    mv "$tmp_dir/minio" "$MINIO_BIN"
    rmdir "$tmp_dir"
}

install_python() {
    local want
    want=$(stamp "$PY_REQUIREMENTS")
    if [[ -x $VENV/bin/python && -f $VENV/.stamp && $(cat "$VENV/.stamp") == "$want" ]]; then
        return
    fi
    command -v python3 >/dev/null || die "python3 not found"
    log "creating the Python venv in $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" ||
        die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$PY_REQUIREMENTS"
    echo "$want" >"$VENV/.stamp"
}

install_kcat() {
    command -v kcat >/dev/null && return
    local sudo=()
    [[ $(id -u) == 0 ]] || sudo=(sudo)
    log "installing kcat from Debian"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null
}

cmd_install() {
    mkdir -p "$CACHE"

    # The MinIO build takes minutes of CPU while the other steps mostly wait
    # on the network, so it runs alongside them.
    local minio_pid=
    if ! external minio TRIBUTARY_S3_ENDPOINT; then
        install_minio >"$CACHE/minio-install.log" 2>&1 &
        minio_pid=$!
    fi
    external kafka TRIBUTARY_KAFKA_BROKERS && [[ -n ${TRIBUTARY_KAFKA_HOME:-} ]] || install_kafka
    [[ -n ${TRIBUTARY_PYTHON:-} ]] || install_python
    install_kcat
    if [[ -n $minio_pid ]] && ! wait "$minio_pid"; then
        tail -n 30 "$CACHE/minio-install.log" >&2
        die "MinIO install failed; full log in $CACHE/minio-install.log"
    fi
    log "installed"
}

# ---------------------------------------------------------------- helpers

# port_in_use succeeds when something accepts connections on host:port.
port_in_use() {
    local host=${1%:*} port=${1##*:}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

require_free() {
    local addr=$1 what=$2 hint=$3
    if port_in_use "$addr"; then
        die "$addr is already in use, so $what cannot listen there; stop whatever holds it ($hint)"
    fi
}

# http_status prints the status code of GET http://host:port/path, using only
# bash so that curl is not a prerequisite.
http_status() {
    local host=${1%:*} port=${1##*:} path=$2 line
    {
        exec 3<>"/dev/tcp/$host/$port" || return 1
        printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$1" >&3
        IFS= read -r -t 5 line <&3 || return 1
        exec 3<&-
    } 2>/dev/null
    line=${line%$'\r'}
    printf '%s\n' "$(cut -d' ' -f2 <<<"$line")"
}

# alive succeeds when the pid in the given file names a running process.
alive() {
    local pidfile=$1
    [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# wait_ready polls check until it succeeds, failing early when the process in
# pidfile has died and after START_TIMEOUT seconds.
wait_ready() {
    local name=$1 pidfile=$2 logfile=$3 check=$4 deadline=$((SECONDS + START_TIMEOUT))
    until "$check"; do
        if ! alive "$pidfile"; then
            tail -n 40 "$logfile" >&2 || true
            die "$name exited during start-up; its log is $logfile"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 40 "$logfile" >&2 || true
            die "$name did not become ready within ${START_TIMEOUT}s; its log is $logfile"
        fi
        sleep 0.5
    done
}

stop_pid() {
    local name=$1 pidfile=$2 pid deadline
    alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    # A graceful stop lets Kafka close its logs cleanly; the data is thrown
    # away on the next start anyway, so the wait is short.
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM for 15s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$pidfile"
    log "stopped $name (pid $pid)"
}

# ---------------------------------------------------------------- Kafka

kafka_ready() {
    port_in_use "$KAFKA_ADDR" || return 1
    # A listening socket is not enough: the broker answers metadata only once
    # it has joined the quorum and registered itself.
    if command -v kcat >/dev/null; then
        kcat -b "$KAFKA_ADDR" -L -m 2 2>/dev/null | grep -q ' 1 brokers:'
    fi
}

start_kafka() {
    local dir=$RUN/kafka libs=$KAFKA_HOME/libs cluster_id
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/logs"
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_CONTROLLER_ADDR
listeners=PLAINTEXT://$KAFKA_ADDR,CONTROLLER://$KAFKA_CONTROLLER_ADDR
advertised.listeners=PLAINTEXT://$KAFKA_ADDR
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50 keep the first consumer group
# and the first transaction quick to set up.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0
# Tests use short sessions to see failover within seconds.
group.min.session.timeout.ms=1000
group.consumer.min.session.timeout.ms=1000
group.consumer.min.heartbeat.interval.ms=500
EOF

    # Every start is a new cluster: random 16 bytes, base64url without padding.
    # Passed with "=", as an id may begin with "-".
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    java -cp "$libs/*" -Dlog4j2.configurationFile="$ROOT/integration/log4j2.properties" \
        -Dkafka.logs.dir="$dir/logs" kafka.tools.StorageTool format --standalone \
        --cluster-id="$cluster_id" --config="$dir/server.properties" >"$dir/logs/format.log" 2>&1 ||
        { cat "$dir/logs/format.log" >&2; die "formatting Kafka storage failed"; }

    nohup java -Xms256m -Xmx1g -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$ROOT/integration/log4j2.properties" \
        -Dkafka.logs.dir="$dir/logs" \
        -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
        >"$dir/logs/console.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    disown # stopped through its pid file, and not reported as a killed job
    wait_ready Kafka "$dir/pid" "$dir/logs/server.log" kafka_ready
    log "Kafka $KAFKA_VERSION ready on $KAFKA_ADDR (pid $(cat "$dir/pid"), logs in $dir/logs)"
}

# ---------------------------------------------------------------- MinIO

minio_ready() {
    [[ $(http_status "$MINIO_ADDR" /minio/health/live) == 200 ]] &&
        [[ $(http_status "$MINIO_ADDR" /minio/health/ready) == 200 ]]
}

start_minio() {
    local dir=$RUN/minio
    rm -rf "$dir"
    mkdir -p "$dir/data"
    MINIO_ROOT_USER=$S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$S3_SECRET_KEY \
        MINIO_UPDATE=off MINIO_CI_CD=on \
        nohup "$MINIO_BIN" server "$dir/data" --quiet \
        --address "$MINIO_ADDR" --console-address "$MINIO_CONSOLE_ADDR" \
        >"$dir/minio.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    disown # stopped through its pid file, and not reported as a killed job
    wait_ready MinIO "$dir/pid" "$dir/minio.log" minio_ready
    log "MinIO ready on $MINIO_ADDR (pid $(cat "$dir/pid"), log $dir/minio.log)"
}

# ---------------------------------------------------------------- commands

# external succeeds when the caller set the address variable of a service
# itself; a value that an earlier `env` printed for a service this script
# runs does not count, so start, eval, stop, start works in one shell.
external() {
    local service=$1 var=$2
    [[ -n ${!var:-} && " ${TRIBUTARY_SERVICES_MANAGED:-} " != *" $service "* ]]
}

cmd_start() {
    local kafka=1 minio=1
    if external kafka TRIBUTARY_KAFKA_BROKERS; then
        log "TRIBUTARY_KAFKA_BROKERS is set; not starting Kafka"
        kafka=
    fi
    if external minio TRIBUTARY_S3_ENDPOINT; then
        log "TRIBUTARY_S3_ENDPOINT is set; not starting MinIO"
        minio=
    fi

    # Check everything before starting anything, so a busy port or a missing
    # install fails in a second and leaves nothing half started.
    if [[ -n $kafka ]]; then
        [[ -f $KAFKA_HOME/libs/.stamp ]] ||
            die "Kafka is not installed; run integration/services.sh install"
        stop_pid kafka "$RUN/kafka/pid"
        require_free "$KAFKA_ADDR" Kafka "or export TRIBUTARY_KAFKA_BROKERS to use a running broker"
        require_free "$KAFKA_CONTROLLER_ADDR" "the Kafka controller" "a stray broker?"
    fi
    if [[ -n $minio ]]; then
        [[ -x $MINIO_BIN ]] || die "MinIO is not installed; run integration/services.sh install"
        stop_pid minio "$RUN/minio/pid"
        require_free "$MINIO_ADDR" MinIO "or export TRIBUTARY_S3_ENDPOINT to use a running S3"
        require_free "$MINIO_CONSOLE_ADDR" "the MinIO console" "a stray MinIO?"
    fi

    mkdir -p "$RUN"
    trap cmd_stop EXIT # undone below once everything answers
    [[ -z $kafka ]] || start_kafka
    [[ -z $minio ]] || start_minio
    trap - EXIT
}

cmd_stop() {
    stop_pid kafka "$RUN/kafka/pid"
    stop_pid minio "$RUN/minio/pid"
}

cmd_status() {
    local down=0 name pidfile addr
    for name in kafka minio; do
        pidfile=$RUN/$name/pid
        addr=$KAFKA_ADDR
        [[ $name == minio ]] && addr=$MINIO_ADDR
        if alive "$pidfile"; then
            printf '%-6s running  pid %s on %s\n' "$name" "$(cat "$pidfile")" "$addr"
        else
            printf '%-6s stopped\n' "$name"
            down=1
        fi
    done
    if [[ -x $VENV/bin/python ]]; then
        printf '%-6s %s\n' python "$VENV/bin/python"
    else
        printf '%-6s not installed\n' python
    fi
    printf '%-6s %s\n' kcat "$(command -v kcat || echo 'not installed')"
    ((down == 0)) || return 3
}

cmd_env() {
    local name value managed=()
    external kafka TRIBUTARY_KAFKA_BROKERS || managed+=(kafka)
    external minio TRIBUTARY_S3_ENDPOINT || managed+=(minio)
    while read -r name value; do
        # Single quotes, which sh (make's shell) reads as well as bash.
        printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}"
    done <<EOF
TRIBUTARY_KAFKA_BROKERS ${TRIBUTARY_KAFKA_BROKERS:-$KAFKA_ADDR}
TRIBUTARY_KAFKA_HOME ${TRIBUTARY_KAFKA_HOME:-$KAFKA_HOME}
TRIBUTARY_S3_ENDPOINT ${TRIBUTARY_S3_ENDPOINT:-$MINIO_ADDR}
TRIBUTARY_S3_ACCESS_KEY ${TRIBUTARY_S3_ACCESS_KEY:-$S3_ACCESS_KEY}
TRIBUTARY_S3_SECRET_KEY ${TRIBUTARY_S3_SECRET_KEY:-$S3_SECRET_KEY}
TRIBUTARY_PYTHON ${TRIBUTARY_PYTHON:-$VENV/bin/python}
TRIBUTARY_SERVICES_MANAGED ${managed[*]}
EOF
}

# cmd_bucket creates a bucket with a SigV4-signed PUT, so that no S3 client
# needs installing; an existing bucket of ours (409) is fine.
cmd_bucket() {
    local name=${1:-} endpoint=${TRIBUTARY_S3_ENDPOINT:-$MINIO_ADDR} code
    [[ -n $name ]] || die "usage: $0 bucket NAME"
    [[ $endpoint == *://* ]] || endpoint=http://$endpoint
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "${TRIBUTARY_S3_ACCESS_KEY:-$S3_ACCESS_KEY}:${TRIBUTARY_S3_SECRET_KEY:-$S3_SECRET_KEY}" \
        "$endpoint/$name") || die "no S3 endpoint answers at $endpoint"
    case $code in
    200) log "bucket $name created at $endpoint" ;;
    409) log "bucket $name already exists at $endpoint" ;;
    *) die "creating bucket $name at $endpoint answered HTTP $code" ;;
    esac
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
bucket) cmd_bucket "${2:-}" ;;
*) usage ;;
esac
