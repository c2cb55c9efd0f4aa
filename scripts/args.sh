# shellcheck shell=bash
# args.sh - sourced by the scripts and benchmarks: their options from a
# table of OPTION VARIABLE pairs.  The script sets each VARIABLE to its
# default first; an option given sets it again:
#
#   OPTION VARIABLE          OPTION takes a value: VARIABLE=value
#   OPTION VARIABLE=VALUE    OPTION is a flag: VARIABLE=VALUE
#
# (a VARIABLE of the script's, not one of the _-prefixed names used here)
#
#   bs_args NAME [OPTION VARIABLE[=VALUE]]... -- "$@"
#
# Long options, each a word of its own, in any order.  -h and --help print
# the script's header comment (from its second line to the first line that
# is not a comment) without the leading "# ", and exit 0.  Any other
# argument is an error, "NAME: unknown argument 'ARG' (try --help)", exit
# status 1, as is an option that needs a value given last: "NAME: OPTION
# needs a value (try --help)".
#
#   bs_getopts [-LETTER VARIABLE[=VALUE]]... -- "$@"
#
# Single-letter options, parsed by getopts (-r3 as -r 3; operands are
# ignored).  An unknown option or a missing value: getopts's complaint,
# then the script's header comment as it stands, on stderr; exit 1.

# _bs_header: the script's header comment, from its second line to the
# first line that is not a comment.
_bs_header() {
    sed -n '2,/^[^#]/{/^#/p;}' "$0"
}

# _bs_opt_table [OPTION VARIABLE[=VALUE]]... -- ...: _bs_opt[OPTION] is
# VARIABLE[=VALUE].
_bs_opt_table() {
    declare -gA _bs_opt=()
    while [ "$1" != -- ]; do
        _bs_opt[$1]=$2
        shift 2
    done
}

# _bs_opt_set VARIABLE[=VALUE] ARG: sets the variable of an option given,
# to VALUE for a flag, else to ARG.
_bs_opt_set() {
    case $1 in
    *=*) printf -v "${1%%=*}" %s "${1#*=}" ;;
    *) printf -v "$1" %s "$2" ;;
    esac
}

bs_args() {
    local _name=$1 _var
    shift
    _bs_opt_table "$@"
    while [ "$1" != -- ]; do
        shift
    done
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        -h | --help)
            _bs_header | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        esac
        _var=
        [ -z "$1" ] || _var=${_bs_opt[$1]-}
        case $_var in
        '')
            echo "$_name: unknown argument '$1' (try --help)" >&2
            exit 1
            ;;
        *=*) _bs_opt_set "$_var" ;;
        *)
            if [ $# -lt 2 ]; then
                echo "$_name: $1 needs a value (try --help)" >&2
                exit 1
            fi
            _bs_opt_set "$_var" "$2"
            shift
            ;;
        esac
        shift
    done
}

bs_getopts() {
    local _letters='' _opt _o OPTIND=1 OPTARG
    _bs_opt_table "$@"
    while [ "$1" != -- ]; do
        shift
    done
    shift
    for _opt in "${!_bs_opt[@]}"; do
        case ${_bs_opt[$_opt]} in
        *=*) _letters+=${_opt#-} ;;
        *) _letters+=${_opt#-}: ;;
        esac
    done
    while getopts "$_letters" _o; do
        if [ "$_o" = '?' ]; then
            _bs_header >&2
            exit 1
        fi
        _bs_opt_set "${_bs_opt[-$_o]}" "${OPTARG-}"
    done
}
