#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, combined broker+controller)
# on 127.0.0.1 for newsline, from jars gathered from Maven Central.
# See usage() below. stdout carries only machine-readable results (the
# bootstrap address); all progress and diagnostics go to stderr.
set -euo pipefail

KAFKA_VERSION=4.3.1
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/kafka/log4j2.properties"
CACHE_ROOT="${NEWSLINE_CACHE:-$HOME/.cache/newsline}/kafka-$KAFKA_VERSION"
LIBS="$CACHE_ROOT/libs"
MARKER="$CACHE_ROOT/libs.complete"
# slf4j 2.x API for log4j-slf4j2-impl (kafka_2.13 drags in slf4j-api 1.7.36,
# which cannot see the slf4j2 provider: the broker would log nothing).
SLF4J2_VERSION=2.0.17

START_TIMEOUT=90     # seconds until the broker must answer a Kafka request
STOP_TIMEOUT=30      # seconds after SIGTERM before SIGKILL
TOOL_TIMEOUT=60      # seconds for one CLI tool run (topic creation)

BROKER_JVM_OPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
  -Djava.awt.headless=true)
# Short-lived CLI JVMs: start fast, stay small.
TOOL_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  -Djava.awt.headless=true)

usage() {
  cat <<EOF
Usage: deploy/kafka.sh COMMAND [--dir DIR] [--port PORT]

Run a single-node Apache Kafka $KAFKA_VERSION broker (KRaft, broker+controller
in one JVM) on 127.0.0.1, from jars gathered from Maven Central.

Commands:
  fetch    Gather the broker jars into the cache (skipped when complete):
             \${NEWSLINE_CACHE:-\$HOME/.cache/newsline}/kafka-$KAFKA_VERSION/libs
           Installs Java 17 and Maven with apt-get if missing.
  start    Fetch if needed, write DIR/server.properties, format storage once,
           start the broker in the background (log: DIR/kafka.log, pid:
           DIR/kafka.pid), wait up to ${START_TIMEOUT}s until it answers Kafka
           requests, create the pipeline topics (if missing) and print the
           bootstrap address (host:port) as the only line on stdout.
           If the broker of DIR is already running, just print its address.
  stop     SIGTERM the broker of DIR, SIGKILL after ${STOP_TIMEOUT}s. Exit 0 if
           nothing was running.
  status   Print "running BOOTSTRAP pid=PID" (exit 0) or "stopped [BOOTSTRAP]"
           (exit 3).
  reset    Stop, then delete DIR (topics, data, config, port).
  help     Show this text (also -h, --help).

Options:
  --dir DIR    State directory (default: \$REPO/.kafka = $REPO/.kafka).
  --port PORT  Client (PLAINTEXT) port on 127.0.0.1 (default 9092). 0 picks a
               free port. The port chosen on the first start is kept in
               DIR/port and reused by later starts of the same DIR unless
               another non-zero --port is given (with --port 0, a stored port
               that is now taken is replaced by a new free one). The
               controller listener uses a second free port, kept in
               DIR/controller.port.

Topics created by start (compression.type=zstd, max.message.bytes=16777216):
  newsline.fetch (6 partitions), newsline.raw (6), newsline.parsed (6),
  newsline.tagged (6), newsline.dlq (3), newsline.fetch.seen (6, also
  cleanup.policy=compact: the fetcher's seen-set changelog). NEWSLINE_PARTITIONS=N
  overrides all six partition counts.
  Other topics (newsline.tag.<id>) are auto-created with 3 partitions.

Environment:
  NEWSLINE_CACHE       Cache root (default \$HOME/.cache/newsline).
  NEWSLINE_PARTITIONS  Partition count for the pipeline topics.
EOF
}

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- arguments
CMD=""
DIR=""
PORT=""
while (($#)); do
  case "$1" in
    -h|--help|help) usage; exit 0 ;;
    --dir) (($# >= 2)) || die "--dir needs a value"; DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#--dir=}"; shift ;;
    --port) (($# >= 2)) || die "--port needs a value"; PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#--port=}"; shift ;;
    fetch|start|stop|status|reset)
      [[ -z "$CMD" ]] || die "only one command allowed (got '$CMD' and '$1')"
      CMD="$1"; shift ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ -n "$CMD" ]] || { usage >&2; exit 2; }
if [[ -n "$PORT" ]]; then
  [[ "$PORT" =~ ^[0-9]+$ ]] && ((10#$PORT <= 65535)) || die "bad --port: $PORT"
  PORT=$((10#$PORT))
fi
DIR="${DIR:-$REPO/.kafka}"
[[ -n "$DIR" ]] || die "empty --dir"
DIR="$(realpath -m -- "$DIR")"
[[ "$DIR" != "/" ]] || die "refusing to use / as state dir"

PIDFILE="$DIR/kafka.pid"
LOGFILE="$DIR/kafka.log"
CONF="$DIR/server.properties"
ADMIN_CONF="$DIR/admin.properties"

# ------------------------------------------------------------- prerequisites
APT_UPDATED=0
as_root() {
  if ((EUID == 0)); then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* manually"
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2
}
java_major() {
  # Prints the major version of `java` on PATH, or 0.
  local v
  v="$(java -XshowSettings:properties -version 2>&1 |
       sed -n 's/^ *java\.specification\.version = //p' | head -n1)" || true
  v="${v#1.}"
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}
ensure_java() {
  if command -v java >/dev/null 2>&1 && (($(java_major) >= 17)); then return; fi
  apt_install openjdk-17-jre-headless
  if (($(java_major) < 17)); then
    # An older default java may shadow the new one: prefer JDK 17 directly.
    local j
    for j in /usr/lib/jvm/java-17-openjdk-*/bin; do
      [[ -x "$j/java" ]] && { export PATH="$j:$PATH"; break; }
    done
  fi
  (($(java_major) >= 17)) || die "Java 17+ still not available after install"
}
ensure_maven() {
  command -v mvn >/dev/null 2>&1 && return
  apt_install maven
  command -v mvn >/dev/null 2>&1 || die "mvn still not available after install"
}

# --------------------------------------------------------------------- fetch
pom_stamp() {
  # The marker records what was fetched, so a changed pom refetches.
  { cat "$POM"; echo "slf4j2=$SLF4J2_VERSION"; } | sha256sum | cut -d' ' -f1
}
libs_complete() {
  [[ -f "$MARKER" && -d "$LIBS" ]] && [[ "$(cat "$MARKER")" == "$(pom_stamp)" ]]
}
do_fetch() {
  ensure_java
  if libs_complete; then
    log "jars already in $LIBS"
    return 0
  fi
  [[ -f "$POM" ]] || die "missing $POM"
  ensure_maven
  mkdir -p "$CACHE_ROOT"
  rm -f "$MARKER"
  local tmp="$CACHE_ROOT/libs.tmp.$$"
  rm -rf "$tmp"
  log "gathering Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (~20 s)"
  local mvn=(mvn -B -q -Dstyle.color=never -f "$POM") mvnlog="$CACHE_ROOT/mvn.log"
  if ! "${mvn[@]}" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
    cat "$mvnlog" >&2; rm -rf "$tmp"; die "maven failed to gather the Kafka jars"
  fi
  # log4j-slf4j2-impl needs slf4j-api 2.x; maven picked kafka's 1.7.x.
  if compgen -G "$tmp/log4j-slf4j2-impl-*.jar" >/dev/null &&
     compgen -G "$tmp/slf4j-api-1.*.jar" >/dev/null; then
    log "replacing slf4j-api 1.x with $SLF4J2_VERSION (needed by log4j-slf4j2-impl)"
    if ! "${mvn[@]}" dependency:copy -Dartifact="org.slf4j:slf4j-api:$SLF4J2_VERSION" \
          -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
      cat "$mvnlog" >&2; rm -rf "$tmp"; die "maven failed to fetch slf4j-api $SLF4J2_VERSION"
    fi
    rm -f "$tmp"/slf4j-api-1.*.jar
  fi
  compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null &&
    compgen -G "$tmp/kafka-tools-$KAFKA_VERSION.jar" >/dev/null ||
    { rm -rf "$tmp"; die "maven finished but the Kafka jars are missing"; }
  rm -rf "$LIBS" "$mvnlog"
  mv "$tmp" "$LIBS"
  pom_stamp >"$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"
  log "jars ready: $(find "$LIBS" -name '*.jar' | wc -l) in $LIBS"
}

# ---------------------------------------------------------------- processes
# Prints the PID from DIR/kafka.pid if it is a live java kafka.Kafka process
# started with DIR's server.properties; fails otherwise.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid cmd
  pid="$(tr -dc '0-9' <"$PIDFILE")"
  [[ -n "$pid" ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *java* && "$cmd" == *" kafka.Kafka "* && "$cmd" == *"$CONF"* ]] || return 1
  pid_alive "$pid" || return 1
  echo "$pid"
}
pid_alive() {
  # Alive unless gone or a zombie. A JVM whose main thread has exited shows
  # state Z while its other threads still run, so count the threads too.
  kill -0 "$1" 2>/dev/null || return 1
  local state threads
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  threads="$(awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null)" || threads=1
  [[ "$state" != Z || "${threads:-1}" -gt 1 ]]
}
kill_pid() {
  # SIGTERM one PID, wait, then SIGKILL.
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while pid_alive "$pid"; do
    if ((waited >= STOP_TIMEOUT * 5)); then
      log "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local k=0
      while pid_alive "$pid" && ((k < 50)); do sleep 0.2; k=$((k + 1)); done
      break
    fi
    sleep 0.2; waited=$((waited + 1))
  done
}

# --------------------------------------------------------------------- ports
port_free() {
  # True if 127.0.0.1:$1 can be bound right now.
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
  else
    # Fallback: nobody accepts connections there.
    ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
  fi
}
pick_free_port() {
  # Prints a free loopback port different from any given as arguments.
  local p
  if command -v python3 >/dev/null 2>&1; then
    p="$(python3 - "$@" <<'EOF'
import socket, sys
avoid = {int(a) for a in sys.argv[1:]}
held = []
for _ in range(20):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
    port = s.getsockname()[1]
    if port not in avoid:
        print(port)
        break
EOF
)"
    [[ -n "$p" ]] && { echo "$p"; return; }
  fi
  local i a ok
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 30000)); ok=1
    for a in "$@"; do [[ "$p" == "$a" ]] && ok=0; done
    ((ok)) && port_free "$p" && { echo "$p"; return; }
  done
  die "could not find a free loopback port"
}
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# ---------------------------------------------------------------- kafka CLI
tool() {
  # Run a Kafka CLI class quietly (WARN logs to stderr).
  java "${TOOL_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -Dnewsline.kafka.loglevel=WARN -cp "$LIBS/*" "$@"
}
broker_answers() {
  # broker_answers BOOTSTRAP [TIMEOUT]: a real Kafka request (Metadata via
  # ListTopics) must succeed. The topic list is kept in DIR/topics.txt so
  # start can skip creating topics that exist.
  timeout "${2:-30}" java "${TOOL_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -Dnewsline.kafka.loglevel=ERROR -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$1" --command-config "$ADMIN_CONF" --list \
    >"$DIR/topics.txt" 2>/dev/null
}
write_admin_conf() {
  cat >"$ADMIN_CONF" <<'EOF'
# AdminClient settings for deploy/kafka.sh's own TopicCommand runs.
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=2000
EOF
}

create_topics() {
  local bootstrap="$1" n="${NEWSLINE_PARTITIONS:-}"
  if [[ -n "$n" ]]; then
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "NEWSLINE_PARTITIONS must be a positive integer, got '$n'"
  fi
  local -a specs=("newsline.fetch:${n:-6}" "newsline.raw:${n:-6}" "newsline.parsed:${n:-6}"
                  "newsline.tagged:${n:-6}" "newsline.dlq:${n:-3}"
                  "newsline.fetch.seen:${n:-6}")
  local -a pids=() names=()
  local spec topic parts i rc=0
  for spec in "${specs[@]}"; do
    topic="${spec%%:*}"; parts="${spec##*:}"
    if grep -qxF "$topic" "$DIR/topics.txt" 2>/dev/null; then continue; fi
    # One JVM per topic (TopicCommand creates one topic per run); in parallel.
    # (The sed drops TopicCommand's warning about '.' in topic names.)
    # The fetcher's seen-set changelog is compacted (one record per URL).
    local -a extra=()
    [[ "$topic" == newsline.fetch.seen ]] && extra=(--config cleanup.policy=compact)
    ( timeout "$TOOL_TIMEOUT" java "${TOOL_JVM_OPTS[@]}" \
        -Dlog4j2.configurationFile="$LOG4J_CONF" -Dnewsline.kafka.loglevel=WARN \
        -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$topic" --partitions "$parts" --replication-factor 1 \
        --config max.message.bytes=16777216 --config compression.type=zstd "${extra[@]}" 2>&1 |
        sed -u '/Due to limitations in metric names/d' >&2 ) &
    pids+=("$!"); names+=("$topic")
  done
  if ((${#pids[@]} == 0)); then log "pipeline topics already exist"; return 0; fi
  log "creating topics: ${names[*]}"
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      log "failed to create topic ${names[$i]}"; rc=1
    fi
  done
  return "$rc"
}

write_server_conf() {
  local port="$1" cport="$2"
  cat >"$CONF" <<EOF
# Generated by deploy/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data

num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

message.max.bytes=16777216
replica.fetch.max.bytes=16777216
socket.request.max.bytes=104857600
compression.type=producer

num.network.threads=3
num.io.threads=4
EOF
}

# -------------------------------------------------------------------- start
bootstrap_of_dir() { [[ -f "$DIR/bootstrap" ]] && head -n1 "$DIR/bootstrap"; }

wait_ready() {
  # wait_ready PID BOOTSTRAP PORT: succeed once the broker answers.
  local pid="$1" bootstrap="$2" port="$3" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    pid_alive "$pid" || { log "broker process $pid exited during startup"; return 1; }
    if tcp_open "$port" &&
       broker_answers "$bootstrap" $((deadline - SECONDS < 5 ? 5 : deadline - SECONDS)); then
      return 0
    fi
    sleep 0.5
  done
  log "broker did not answer on $bootstrap within ${START_TIMEOUT}s"
  return 1
}

startup_failed() {
  # startup_failed PID LOG_OFFSET: show this run's log tail, kill, exit 1.
  local pid="$1" offset="${2:-0}"
  log "----- last 40 lines of $LOGFILE (this start) -----"
  tail -c +"$((offset + 1))" "$LOGFILE" 2>/dev/null | tail -n 40 >&2 || true
  log "-------------------------------------"
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    log "killing broker pid $pid"
    kill_pid "$pid"
  fi
  rm -f "$PIDFILE"
  die "Kafka broker failed to start (state dir $DIR)"
}

do_start() {
  mkdir -p "$DIR"
  # Serialise concurrent start/stop on the same DIR.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for the lock on $DIR"
  fi

  local pid bootstrap
  if pid="$(running_pid)"; then
    bootstrap="$(bootstrap_of_dir)" || die "broker pid $pid running but $DIR/bootstrap missing"
    ensure_java
    if [[ -f "$LIBS/kafka-tools-$KAFKA_VERSION.jar" ]] &&
       wait_ready "$pid" "$bootstrap" "${bootstrap##*:}"; then
      log "broker already running (pid $pid)"
      echo "$bootstrap"
      return 0
    fi
    die "broker pid $pid from $DIR is running but not answering on $bootstrap (see $LOGFILE)"
  fi
  rm -f "$PIDFILE"

  do_fetch

  # Ports: explicit --port N wins; otherwise reuse DIR/port; otherwise
  # default 9092 (no --port) or a free one (--port 0). With --port 0 a stored
  # port that is now taken is replaced by a new free one.
  local port cport stored=""
  [[ -f "$DIR/port" ]] && stored="$(tr -dc '0-9' <"$DIR/port")"
  if [[ -n "$PORT" && "$PORT" != 0 ]]; then port="$PORT"
  elif [[ -n "$stored" ]]; then port="$stored"
  elif [[ "$PORT" == 0 ]]; then port="$(pick_free_port)"
  else port=9092
  fi
  if ! port_free "$port"; then
    [[ "$PORT" == 0 ]] || die "port 127.0.0.1:$port is already in use"
    log "stored port $port is in use now; picking another one"
    port="$(pick_free_port)"
  fi
  # The controller port is internal: reuse it if still free, else re-pick
  # (KRaft with a single dynamic voter accepts a changed controller port).
  cport=""
  [[ -f "$DIR/controller.port" ]] && cport="$(tr -dc '0-9' <"$DIR/controller.port")"
  if [[ -z "$cport" || "$cport" == "$port" ]] || ! port_free "$cport"; then
    cport="$(pick_free_port "$port")"
  fi
  echo "$port" >"$DIR/port"
  echo "$cport" >"$DIR/controller.port"
  bootstrap="127.0.0.1:$port"

  write_server_conf "$port" "$cport"
  write_admin_conf
  mkdir -p "$DIR/data"

  if [[ ! -f "$DIR/data/meta.properties" ]]; then
    local cid
    if [[ -s "$DIR/cluster.id" ]]; then
      cid="$(head -n1 "$DIR/cluster.id")"
    else
      cid="$(tool kafka.tools.StorageTool random-uuid)" || die "StorageTool random-uuid failed"
      [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "unexpected cluster id from StorageTool: $cid"
      echo "$cid" >"$DIR/cluster.id"
    fi
    log "formatting $DIR/data (cluster id $cid)"
    tool kafka.tools.StorageTool format --standalone --cluster-id "$cid" \
      --config "$CONF" >"$DIR/format.log" 2>&1 ||
      { cat "$DIR/format.log" >&2; die "StorageTool format failed"; }
  fi

  log "starting Kafka $KAFKA_VERSION on $bootstrap (controller 127.0.0.1:$cport, log $LOGFILE)"
  echo "===== $(date '+%F %T') deploy/kafka.sh start =====" >>"$LOGFILE"
  local log_offset
  log_offset="$(stat -c %s "$LOGFILE")"
  local -a launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  # In its own session, cwd /, with no inherited descriptors besides the log
  # (an inherited pipe would keep e.g. a caller's $(...) or harness waiting).
  (
    cd /
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec "${launcher[@]}" java "${BROKER_JVM_OPTS[@]}" \
      -Dlog4j2.configurationFile="$LOG4J_CONF" -Dnewsline.kafka.loglevel=INFO \
      -cp "$LIBS/*" kafka.Kafka "$CONF" </dev/null >>"$LOGFILE" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "$bootstrap" >"$DIR/bootstrap"

  local t0=$SECONDS
  wait_ready "$pid" "$bootstrap" "$port" || startup_failed "$pid" "$log_offset"
  log "broker answering after $((SECONDS - t0))s (pid $pid)"
  create_topics "$bootstrap" || startup_failed "$pid" "$log_offset"
  echo "$bootstrap"
}

# --------------------------------------------------------------------- stop
do_stop() {
  [[ -d "$DIR" ]] || { log "no state dir $DIR; nothing running"; return 0; }
  if [[ -f "$PIDFILE" ]] && command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for the lock on $DIR"
  fi
  local pid
  if pid="$(running_pid)"; then
    log "stopping broker pid $pid"
    kill_pid "$pid"
    pid_alive "$pid" && die "pid $pid did not exit"
    log "stopped"
  else
    [[ -f "$PIDFILE" ]] && log "stale pid file $PIDFILE (no kafka.Kafka process); removing"
    log "nothing running for $DIR"
  fi
  rm -f "$PIDFILE"
}

do_status() {
  local pid bootstrap=""
  bootstrap="$(bootstrap_of_dir 2>/dev/null)" || bootstrap=""
  if pid="$(running_pid)"; then
    echo "running $bootstrap pid=$pid"
    return 0
  fi
  echo "stopped${bootstrap:+ $bootstrap}"
  return 3
}

do_reset() {
  do_stop
  [[ -e "$DIR" ]] || { log "$DIR does not exist"; return 0; }
  # Only delete something that looks like our state dir (or is empty).
  if [[ -f "$DIR/server.properties" || -f "$DIR/port" || -d "$DIR/data" ||
        -f "$DIR/kafka.log" || "$(ls -A "$DIR" 2>/dev/null)" =~ ^(\.lock)?$ ]]; then
    log "deleting $DIR"
    rm -rf -- "$DIR"
  else
    die "$DIR does not look like a kafka.sh state dir; not deleting it"
  fi
}

case "$CMD" in
  fetch) do_fetch ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  reset) do_reset ;;
esac
