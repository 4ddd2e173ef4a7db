#!/usr/bin/env bash
# The demo's ports must be free before `make run` builds or starts anything. An earlier
# demo still running holds them: the new kinesis-local and collector would fail to bind
# while the wallboard showed the old collector's data, without a word. This stops at
# once instead, naming each busy port and, where it can be found, the process holding it.
#
#   scripts/demo-ports.sh             check the demo's ports (KINESIS_PORT as demo.sh reads it)
#   scripts/demo-ports.sh PORT...     check these ports instead
#   scripts/demo-ports.sh --list      print the demo's ports, "PORT<tab>what" a line
#
# DEMO_PORT_LOOKUP picks how a busy port and its holder are found: `ss` (iproute2), `proc`
# (/proc/net/tcp and /proc/*/fd), or `none` (a connection attempt; no holder named). The
# default is ss when installed, else proc when /proc/net/tcp exists, else none.
set -euo pipefail

kinesis_port=${KINESIS_PORT:-4568}
if ! [[ $kinesis_port =~ ^[0-9]+$ ]] || ((kinesis_port < 2 || kinesis_port > 65535)); then
  echo "KINESIS_PORT must be a port number from 2 to 65535 (kinesis-local also takes the one below it), not '$kinesis_port'." >&2
  exit 2
fi

# What the demo binds: kinesis-local (demo.sh) and the collector (config/demo.yaml, which
# sets no service::telemetry, so the collector's own metrics take the default 8888).
# test/demo checks this list against config/demo.yaml.
demo_ports=(
  "$kinesis_port	kinesis-local's HTTP port, KINESIS_PORT"
  "$((kinesis_port - 1))	kinesis-local's HTTPS port, KINESIS_PORT - 1"
  "9464	the collector's prometheus exporter in config/demo.yaml"
  "13133	the collector's health_check in config/demo.yaml"
  "8888	the collector's own metrics, service::telemetry's default"
)

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${demo_ports[@]}"
  exit 0
fi
if (($# > 0)); then
  demo_ports=()
  for p in "$@"; do demo_ports+=("$p	"); done
fi

lookup=${DEMO_PORT_LOOKUP:-}
if [[ -z $lookup ]]; then
  if command -v ss >/dev/null 2>&1; then
    lookup=ss
  elif [[ -r /proc/net/tcp ]]; then
    lookup=proc
  else
    lookup=none
  fi
fi

# busy_pids PORT: returns 0 when something listens on TCP PORT, and prints the ids of the
# processes holding it that can be found (none when they belong to another user or the
# lookup cannot tell).
busy_pids() {
  local port=$1
  case $lookup in
    ss)
      local out
      out=$(ss -Hltnp "sport = :$port" 2>/dev/null) || return 1
      [[ -n $out ]] || return 1
      grep -o 'pid=[0-9]*' <<<"$out" | cut -d= -f2 | sort -un || true
      ;;
    proc)
      local hex inodes inode
      hex=$(printf '%04X' "$port")
      # Local address is field 2 (ADDR:PORT in hex), state field 4 (0A is LISTEN), inode field 10.
      inodes=$(awk -v p="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == p) print $10 }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
      [[ -n $inodes ]] || return 1
      # find fails on processes that end meanwhile or that it may not read; what it
      # found still counts.
      for inode in $inodes; do
        find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3 || true
      done | sort -un
      ;;
    none)
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
      ;;
    *)
      echo "DEMO_PORT_LOOKUP must be ss, proc or none, not '$lookup'." >&2
      exit 2
      ;;
  esac
}

command_line() {
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || true
  [[ -n $cmd ]] || cmd=$(ps -o args= -p "$1" 2>/dev/null) || true
  printf '%s' "${cmd% }"
}

busy=0
all_pids=()
for entry in "${demo_ports[@]}"; do
  port=${entry%%	*}
  what=${entry#*	}
  name="port $port${what:+ ($what)}"
  pids=$(busy_pids "$port") || continue
  busy=1
  if [[ -z $pids ]]; then
    echo "$name is in use by another process (which one could not be found)." >&2
    continue
  fi
  for pid in $pids; do
    all_pids+=("$pid")
    cmd=$(command_line "$pid")
    echo "$name is in use by pid $pid: ${cmd:-(command line not readable)}" >&2
  done
done

if ((busy)); then
  {
    echo
    echo "The demo did not start: the ports above are taken, most likely by an earlier demo still running."
    if ((${#all_pids[@]} > 0)); then
      echo "Stop it (e.g. kill $(printf '%s\n' "${all_pids[@]}" | sort -un | tr '\n' ' ' | sed 's/ $//')), then run it again."
    else
      echo "Stop what holds them, then run it again."
    fi
    echo "kinesis-local's ports move with KINESIS_PORT=...; the collector's are in config/demo.yaml."
  } >&2
  exit 1
fi
