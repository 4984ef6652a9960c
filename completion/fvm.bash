# bash completion for fvm and fvm-exec.
#
# Installed as /usr/share/bash-completion/completions/fvm (and a link fvm-exec); or
# source it from ~/.bashrc. The candidates come from fvm itself, `fvm __complete`
# (fvm-exec/manage/cmd_complete.c): subcommands and their options from fvm's help
# table, fvm-exec's options and values from its option table, VM names and snapshot
# labels from the store (--home on the line, else $FVM_HOME, else the default).
# Lines of its output beginning with ':' ask for file names, directories or commands.
#
# FVM_COMPLETE_BIN (for tests): the fvm binary to ask, default fvm on PATH.

# The words of the line up to the cursor, with the words bash split at '=' or ':'
# joined back (fvm config VM net=none), into _fvm_words.
_fvm_line_words()
{
	local i w
	_fvm_words=()
	for ((i = 1; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((${#_fvm_words[@]} > 0)) && { [[ $w == [=:]* ]] || [[ ${_fvm_words[-1]} == *[=:] ]]; } &&
			[[ ${_fvm_words[-1]} != "" ]]; then
			_fvm_words[-1]+=$w
		else
			_fvm_words+=("$w")
		fi
	done
	((${#_fvm_words[@]} > 0)) || _fvm_words=("")
}

# $1: "" for fvm, --exec for fvm-exec.
_fvm_run_complete()
{
	local mode=$1 line cur files='' dirs='' commands='' nospace='' prefix
	local -a _fvm_words out
	COMPREPLY=()
	_fvm_line_words
	cur=${_fvm_words[-1]}
	mapfile -t out < <("${FVM_COMPLETE_BIN:-fvm}" __complete $mode -- "${_fvm_words[@]}" 2>/dev/null)
	# bash replaces only the part of the word after its last '=' or ':'.
	prefix=
	[[ $cur == *[=:]* && $COMP_WORDBREAKS == *[=:]* ]] && prefix=${cur%"${cur##*[=:]}"}
	for line in "${out[@]}"; do
		case $line in
		:files) files=1 ;;
		:dirs) dirs=1 ;;
		:commands) commands=1 ;;
		:nospace) nospace=1 ;;
		*) COMPREPLY+=("${line#"$prefix"}") ;;
		esac
	done
	if [[ $commands ]]; then
		mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -c -- "$cur")
	fi
	if [[ $files ]]; then
		mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
	elif [[ $dirs ]]; then
		mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null
	fi
	if [[ $nospace ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

_fvm() { _fvm_run_complete ""; }
_fvm_exec() { _fvm_run_complete --exec; }

complete -F _fvm fvm
complete -F _fvm_exec fvm-exec
