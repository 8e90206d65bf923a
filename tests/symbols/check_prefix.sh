#!/bin/sh
# check_prefix.sh NM LIBRARY... - fails if a static library defines a global symbol outside the
# kiln_ prefix (public kiln_NAME, internal kiln__NAME through src/base/symbols.h), which an
# embedder's own names could collide with when linking it. Run by CTest as symbol_prefix.
nm_tool=$1
shift
status=0
for lib in "$@"; do
  if ! symbols=$("$nm_tool" -g --defined-only "$lib"); then
    echo "$lib: cannot read its symbols"
    status=1
    continue
  fi
  # __odr_asan.* and __sancov_* are made by the sanitizers' instrumentation, not by our sources.
  bad=$(printf '%s\n' "$symbols" | awk 'NF == 3 && $3 !~ /^(kiln_|__odr_asan[._]|__sancov_)/ { print $3 }' | sort -u)
  if [ -n "$bad" ]; then
    echo "$lib defines global symbols without the kiln_ prefix; make them static or add to src/base/symbols.h:"
    for s in $bad; do echo "#define $s kiln__$s"; done
    status=1
  fi
done
[ $status -eq 0 ] && echo "every global symbol of $* starts with kiln_"
exit $status
