# Bounded waits shared by the e2e tests (lib.sh) and bench/e2e.sh. Source it.

# nl_wait_pid PID SECONDS: wait for a process we started to exit; 0 if it did.
nl_wait_pid() {
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# nl_wait_for SECONDS command...: poll until the command succeeds; 0 if it did.
nl_wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}
