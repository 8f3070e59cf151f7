#!/usr/bin/env bash
# The layers' direction, checked on every `make test`:
#   src/api/   never includes a store header (it calls the core, never Redis)
#   src/core/  never includes an HTTP or FastCGI header (it decides, whatever
#              the transport), nor a server header that carries one
#   only src/store/ includes hiredis
# Headers under include/tokend/<layer>/ obey the rule of their layer, and the
# check follows includes through headers, so a rule cannot be dodged by
# including a header that includes the forbidden one.
set -euo pipefail
cd "$(dirname "$0")/.."

# every header a file reaches, transitively, through "tokend/..." includes
reach() {
    local seen=" " queue=("$1") f inc
    while [ ${#queue[@]} -gt 0 ]; do
        f=${queue[0]}; queue=("${queue[@]:1}")
        while IFS= read -r inc; do
            echo "$inc"
            case "$inc" in
                tokend/*) [[ $seen == *" $inc "* ]] && continue
                          seen="$seen$inc "; queue+=("include/$inc") ;;
            esac
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$f")
    done
}

fail=0
refuse() {   # file pattern why
    local f=$1 pat=$2 why=$3 hit
    hit=$(reach "$f" | grep -E "$pat" | head -1 || true)
    if [ -n "$hit" ]; then
        echo "layers: $f reaches $hit: $why" >&2
        fail=1
    fi
}

for f in src/api/*.c src/api/*.h include/tokend/api/*.h; do
    [ -e "$f" ] || continue
    refuse "$f" '^tokend/store/|^hiredis/' "api/ calls the core, never the store"
done
for f in src/core/*.c src/core/*.h include/tokend/core/*.h; do
    [ -e "$f" ] || continue
    refuse "$f" '^fcgiapp\.h$|^fcgio\.h$|^fcgi_stdio\.h$|^fastcgi\.h$|^tokend/server/http\.h$|^tokend/server/app\.h$|^tokend/api/' \
        "core/ knows no HTTP, FastCGI or dialect"
done
for f in $(find src include tests/unit tests/fuzz -name '*.[ch]' ! -path 'src/store/*' ! -path 'include/tokend/store/*'); do
    refuse "$f" '^hiredis/' "only store/ talks to Redis"
done
for f in src/store/*.c include/tokend/store/*.h; do
    refuse "$f" '^tokend/api/|^tokend/server/http\.h$|^fcgiapp\.h$' "store/ knows no dialect or HTTP"
done
[ $fail = 0 ] && echo "layers: ok (api -> core -> store; hiredis only in store/)"
exit $fail
