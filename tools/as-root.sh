# Sourced by the project's scripts that need root (network namespaces, raw
# sockets, apt-get): as root it does nothing; otherwise it runs the script
# again through sudo when sudo is installed, and else stops with a message.
#   source tools/as-root.sh        (before any `cd`: it re-runs "$0" "$@")
# With AS_ROOT_OPTIONAL=1 a script without root goes on, and says what it
# will not do.
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    exec sudo -- "$0" "$@"
  fi
  if [[ ${AS_ROOT_OPTIONAL:-0} == 1 ]]; then
    echo "$(basename "$0"): not root and no sudo: installing nothing, and" \
      "the tests that need root report themselves skipped" >&2
  else
    echo "$(basename "$0"): needs root (network namespaces, raw sockets," \
      "apt-get); run it as root" >&2
    exit 1
  fi
fi
