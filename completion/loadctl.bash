# SPDX-License-Identifier: ISC
# bash completion for loadctl(1); installed as
# share/bash-completion/completions/loadctl, or: . completion/loadctl.bash
#
# This file lists no command.  The commands, what their arguments are and
# their own options come from the loadctl being completed, which prints the
# command table it shares with loadd ("loadctl --list-commands": one command
# a line, NAME ARGUMENTS [OPTION...]), so a new command completes without
# an edit here.  Load names come from "loadctl -j status" when the daemon
# answers, on the socket of -s if the line has one (else LOADD_SOCKET, else
# the default), waiting at most a second.

# _loadctl_loads LOADCTL [-s PATH]: the names of the daemon's loads.
_loadctl_loads()
{
	local json re='"name":"([^"]*)"'

	json=$("$@" -t 1 -j status 2>/dev/null) || return 0
	# Only a load has a "name" in status; names are [A-Za-z0-9_.-].
	while [[ $json =~ $re ]]; do
		printf '%s\n' "${BASH_REMATCH[1]}"
		json=${json#*"${BASH_REMATCH[0]}"}
	done
}

_loadctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local ctl=${COMP_WORDS[0]} table line w cmd= kind= own= names= i
	local -a sock=() args=()

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# The loadctl on the line ("./build/loadctl", "~/bin/loadctl"), else
	# the one on PATH.
	[[ $ctl == "~/"* ]] && ctl=$HOME/${ctl#"~/"}
	if [[ $ctl != */* ]] || [[ ! -x $ctl ]]; then
		ctl=loadctl
	fi
	table=$("$ctl" --list-commands 2>/dev/null) || return 0

	# The words before the cursor: loadctl's options (with their values,
	# -s kept for the status query), the command, then its arguments.
	# After "report" every word is report's; after "--" none is an option.
	local dashdash=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $cmd == report || -n $dashdash ]]; then
			[[ -z $cmd ]] && cmd=$w || args+=("$w")
			continue
		fi
		case $w in
		--)
			dashdash=1 ;;
		--over | --lease | --at)
			((i++)) ;;	# with its DURATION or TIME
		--*)
			;;
		-s?*)
			sock=(-s "${w#-s}") ;;
		-s | -[a-zA-Z]*s)
			((i++))
			sock=(-s "${COMP_WORDS[i]}") ;;
		-t | -[a-zA-Z]*t | -F | -[a-zA-Z]*F | --fleet | --on-loss)
			((i++)) ;;
		-[a-zA-Z]*)
			;;
		*)
			[[ -z $cmd ]] && cmd=$w || args+=("$w") ;;
		esac
	done

	if [[ -n $cmd ]]; then
		while read -r w kind own; do
			[[ $w == "$cmd" ]] && break
			kind=
		done <<<"$table"
	fi

	# The value of an option.
	if [[ $cmd != report && -z $dashdash ]]; then
		case $prev in
		-s | -[a-zA-Z]*s | -F | -[a-zA-Z]*F | --fleet)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0 ;;
		--on-loss)
			mapfile -t COMPREPLY < <(compgen -W "degrade rebalance abort" -- "$cur")
			return 0 ;;
		-t | -[a-zA-Z]*t | --over | --lease | --at)
			return 0 ;;
		esac
	fi
	if [[ $kind == files ]]; then
		case $prev in
		-l | -t)
			return 0 ;;
		esac
		if [[ $cur == -* && $prev != -o ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$own" -- "$cur")
			return 0
		fi
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
	fi
	if [[ $cur == -* && -z $dashdash ]]; then
		mapfile -t COMPREPLY < <(compgen -W "-j -s -t -h -V --help \
		    --version -F --fleet --hosts --on-loss $own" -- "$cur")
		return 0
	fi

	if [[ -z $cmd ]]; then
		names=$(while read -r w kind own; do
			printf '%s\n' "$w"
		done <<<"$table")
		mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
		return 0
	fi
	case $kind:${#args[@]} in
	command:0)
		# help's argument: the daemon's commands (report is loadctl's).
		names=$(while read -r w kind own; do
			[[ $kind == files ]] || printf '%s\n' "$w"
		done <<<"$table") ;;
	load:0 | load-count:0)
		names=$(_loadctl_loads "$ctl" "${sock[@]}") ;;
	load-rate:0)
		names="flood $(_loadctl_loads "$ctl" "${sock[@]}")" ;;
	load-rate:1)
		# After a load's name, the rate; after a rate, nothing.
		[[ ${args[0]} == [0-9]* || ${args[0]} == flood ]] ||
		    names=flood ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
	return 0
}

complete -F _loadctl loadctl
