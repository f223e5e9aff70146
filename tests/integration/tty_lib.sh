# A ceremony typed on a real pseudo-terminal (tmux), for the tests of interactive runs
# (sourced after lib.sh and setup_hsm). tty_start runs "ceremony run SCRIPT --transcript
# TRANSCRIPT" in a tmux session, with ENV (VAR=value ...) added to its environment;
# answer waits for a prompt on the last line shown, types a line and passes or fails;
# tty_stop waits for the run to end and leaves its screen in $screen.
command -v tmux >/dev/null || { fail "tmux is installed" "make deps installs it"; finish; }
sock="$T/tmux.sock"
# A prompt or the run's end may take this long on a loaded machine (2 cores, 7 engineers).
TTY_WAIT=${TTY_WAIT:-1500} # times 0.02 s

pane() { tmux -S "$sock" capture-pane -p -S -200 -t cer 2>/dev/null; }
wait_for() { # TEXT
	for _ in $(seq 1 "$TTY_WAIT"); do
		# the prompt must be the last line shown: earlier lines may contain the same words
		pane | grep -v '^$' | tail -n 1 | grep -qF -- "$1" && return 0
		sleep 0.02
	done
	return 1
}
keys() { tmux -S "$sock" send-keys -t cer -l -- "$1"; }
type_line() { keys "$1"; tmux -S "$sock" send-keys -t cer Enter; }
answer() { # NAME PROMPT TEXT
	if wait_for "$2"; then type_line "$3"; pass "$1"; else fail "$1" "no prompt \"$2\": $(pane | tail -5)"; fi
}
tty_start() { # SCRIPT TRANSCRIPT [VAR=value ...]
	local script=$1 transcript=$2 env="SOFTHSM2_CONF='$SOFTHSM2_CONF' CEREMONY_MODULE='$CEREMONY_MODULE'" kv
	shift 2
	for kv in "$@"; do env="$env ${kv%%=*}='${kv#*=}'"; done
	rm -f "$T/exit"
	tmux -S "$sock" new-session -d -s cer -x 220 -y 60 \
		"cd '$PWD' && $env '$CEREMONY' run '$script' --transcript '$transcript'; echo EXIT=\$? >'$T/exit'; sleep 30"
}
tty_stop() {
	for _ in $(seq 1 "$TTY_WAIT"); do [ -s "$T/exit" ] && break; sleep 0.02; done
	screen=$(pane)
	tmux -S "$sock" kill-server 2>/dev/null
}
