# bash completion for pea                                   -*- shell-script -*-
# Commands and flags are read from `pea ... --help`, so new commands complete without edits.

_pea_help_words()
{
        # $1..: the command path after "pea"
        "${_pea_bin:-pea}" "$@" --help 2>/dev/null | awk '
                /^Available Commands:/ { cmds = 1; next }
                /^Options:|^Global Options:/ { cmds = 0; opts = 1; next }
                cmds && NF { print $1 }
                opts { for (i = 1; i <= NF; i++) if ($i ~ /^--?[a-zA-Z]/) { sub(/,$/, "", $i); print $i } }'
}

_pea()
{
        local cur path=() i w
        cur=${COMP_WORDS[COMP_CWORD]}
        _pea_bin=${COMP_WORDS[0]}
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                case $w in
                -*) ;;
                *) path+=("$w") ;;
                esac
        done
        mapfile -t COMPREPLY < <(compgen -W "$(_pea_help_words "${path[@]}")" -- "$cur")
}

complete -o default -F _pea pea
