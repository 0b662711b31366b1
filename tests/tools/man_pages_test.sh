#!/usr/bin/env bash
# Keeps the manual pages in doc/man/ in step with the programs they describe.
# Needs no root and no network.
#
#   tests/tools/man_pages_test.sh SOURCE_DIR PXE_PDHCP PXE_PROBE PXE_STORM
#   tests/tools/man_pages_test.sh --self-test SOURCE_DIR PXE_PDHCP ...
#
# For pxe-pdhcp(8), pxe-probe(1) and pxe-storm(1), from each program's own
# --help output:
#   - every option there (-x, --long) is a tag under OPTIONS in the page,
#     and every option tagged there is in --help;
#   - each "default VALUE" of an option's help text is in its paragraph;
#   - every long option --help mentions at all appears in the page.
# For pxe-pdhcp.toml(5), from tools/policy_file.cc and tools/config.cc:
#   - every key of each key table (kServerKeys, kMatchKeys, ...) is a tag in
#     the page's subsection for that table, and every tag there is a key;
#   - each integer [server] key names its flag and its range, in the
#     pxe-pdhcp.toml(5) entry and in the flag's pxe-pdhcp(8) entry.
# And: every page's .TH names the version `pxe-pdhcp --version` prints, as
# does debian/changelog; and, when groff is installed, `groff -man -z -ww`
# (every warning) and `man --warnings` find nothing to say about any page.
# (With CI=true or PXE_REQUIRE_ALL=1, groff or man missing is a failure:
# tests/testing/cannot_run.sh.)
#
# --self-test runs the checks on changed copies of the pages (an option
# left out, a default changed, a key left out, an option invented, a roff
# mistake) and on a program with an option more, and fails unless each
# change is caught.
set -uo pipefail

self_test=0
if [[ ${1:-} == --self-test ]]; then
  self_test=1
  shift
fi
if [[ $# -ne 4 ]]; then
  echo "usage: $0 [--self-test] SOURCE_DIR PXE_PDHCP PXE_PROBE PXE_STORM" >&2
  exit 2
fi
src=$1
pdhcp=$2
probe=$3
storm=$4
man_dir=${PXE_MAN_DIR:-$src/doc/man}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
source "$(dirname "${BASH_SOURCE[0]}")/../testing/cannot_run.sh"

# Roff source on stdin -> one text line per input line, with the escapes
# and font changes this project's pages use resolved, and the structure as
# marker lines: "@SH title", "@SS title", "@TP". Comments are dropped.
normalize_roff() {
  awk '
    function unescape(s) {
      gsub(/\\f\([A-Za-z][A-Za-z]/, "", s)
      gsub(/\\f[BIRP]/, "", s)
      gsub(/\\-/, "-", s)
      gsub(/\\\(lq|\\\(rq|\\\(dq/, "\"", s)
      gsub(/\\\(aq/, "\047", s)
      gsub(/\\\(->/, "->", s)
      gsub(/\\\(em/, " - ", s)
      gsub(/\\&/, "", s)
      gsub(/\\[ ~]/, " ", s)
      gsub(/\\e/, "\\", s)
      return s
    }
    # The arguments of a macro line, quotes honoured, joined with `sep`.
    function args(s, sep,    out, word, i, c, quoted, n) {
      out = ""; word = ""; quoted = 0; n = 0
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\"") { quoted = !quoted; continue }
        if (c == " " && !quoted) {
          if (word != "") { out = out (n++ ? sep : "") word; word = "" }
          continue
        }
        word = word c
      }
      if (word != "") out = out (n++ ? sep : "") word
      return out
    }
    /^\.\\"/ || /^\\"/ { next }
    /^\./ {
      macro = $1; rest = $0; sub(/^\.[^ ]* ?/, "", rest)
      if (macro == ".SH" || macro == ".SS") {
        print "@" substr(macro, 2) " " unescape(args(rest, " ")); next
      }
      if (macro == ".TP") { print "@TP"; next }
      if (macro == ".PP" || macro == ".LP" || macro == ".P") { print "@PP"; next }
      if (macro ~ /^\.(B|I|SM|SB|SY)$/) { print unescape(args(rest, " ")); next }
      if (macro ~ /^\.(BR|RB|IR|RI|BI|IB)$/) { print unescape(args(rest, "")); next }
      next
    }
    { print unescape($0) }
  '
}

# Normalized page on stdin -> one record per .TP entry of section
# `section`: "SUBSECTION<TAB>TAG<TAB>BODY", whitespace collapsed.
entries() {
  awk -v want="$1" '
    function squash(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
    function flush() {
      if (intag || tag != "") print sub_ "\t" squash(tag) "\t" squash(body)
      tag = ""; body = ""; intag = 0
    }
    /^@SH / { flush(); sect = substr($0, 5); sub_ = ""; active = 0; next }
    /^@SS / { flush(); sub_ = substr($0, 5); next }
    sect != want { next }
    /^@TP$/ { flush(); intag = 1; active = 1; next }
    /^@PP$/ { next }
    !active { next }
    intag { tag = $0; intag = 0; next }
    { body = body " " $0 }
    END { flush() }
  '
}

# `PROGRAM --help` on stdin -> one record per option: "SHORT<TAB>LONG<TAB>
# HELP TEXT", SHORT "." when there is none. An option line starts with - after at most 6 spaces; its
# text goes on in the lines indented deeper.
help_entries() {
  awk '
    function flush() {
      # "." for no short option: bash read collapses empty tab fields.
      if (long != "") { gsub(/[ \t]+/, " ", desc); print (short == "" ? "." : short) "\t" long "\t" desc }
      long = ""; short = ""; desc = ""
    }
    {
      match($0, /^ */); indent = RLENGTH
      rest = substr($0, indent + 1)
    }
    indent >= 2 && indent <= 6 && rest ~ /^-/ {
      flush()
      if (rest ~ /^-[A-Za-z0-9], /) { short = substr(rest, 1, 2); rest = substr(rest, 5) }
      if (match(rest, /^--[a-z0-9][a-z0-9-]*/)) {
        long = substr(rest, 1, RLENGTH); desc = substr(rest, RLENGTH + 1)
      } else if (short != "") {
        long = short; desc = substr(rest, 3)
      }
      next
    }
    indent > 6 && long != "" { desc = desc " " rest; next }
    { flush() }
    END { flush() }
  '
}

long_options() { grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u; }

# check_program NAME BINARY PAGE
check_program() {
  local name=$1 binary=$2 page=$3
  if [[ ! -f $page ]]; then
    fail "$page is missing"
    return
  fi
  local help
  if ! help=$("$binary" --help); then
    fail "$name --help failed"
    return
  fi
  normalize_roff <"$page" >"$work/text"
  entries OPTIONS <"$work/text" >"$work/entries"
  help_entries <<<"$help" >"$work/help"
  # First the page's OPTIONS entries, then --help's options.
  local report
  report=$(awk -F'\t' -v name="$name" -v page="$page" '
    FNR == NR {
      n = split($2, w, /[ ,=|\[\]]+/)
      for (i = 1; i <= n; i++) {
        if (w[i] !~ /^-/) continue
        tag[w[i]] = $2; body[w[i]] = $2 " " $3
        if (w[i] ~ /^--/) documented[w[i]] = 1
      }
      next
    }
    {
      short = $1; long = $2; desc = $3; checked++; in_help[long] = 1
      if (!(long in tag)) {
        print "FAIL: " name " " long " is in --help but not an option under OPTIONS in " page
        next
      }
      if (short != "." && short != long) {
        n = split(tag[long], w, /[ ,]+/); found = 0
        for (i = 1; i <= n; i++) if (w[i] == short) found = 1
        if (!found) print "FAIL: " name " " long ": --help gives it as " short " too, " page "\047s tag \"" tag[long] "\" does not"
      }
      # Each "default VALUE" of the help text, in the page entry.
      d = desc
      while (match(d, /default [A-Za-z0-9][^ ;:)]*/)) {
        v = substr(d, RSTART, RLENGTH); d = substr(d, RSTART + RLENGTH)
        sub(/[,.]$/, "", v)
        if (index(body[long], v) == 0) print "FAIL: " name " " long ": --help says \"" v "\", its entry in " page " does not"
      }
    }
    END {
      for (o in documented) if (!(o in in_help)) print "FAIL: " name " " o " is an option in " page " but not in --help"
      if (checked == 0) print "FAIL: " name " --help: no options found (has its layout changed?)"
      print "checked " checked + 0
    }
  ' "$work/entries" "$work/help")
  # Every long option --help mentions at all, anywhere in the page.
  report+=$'\n'$(long_options <<<"$help" | awk -v name="$name" -v page="$page" '
    FNR == NR { text = text " " $0; next }
    {
      rest = text; found = 0
      while ((i = index(rest, $0)) > 0) {
        after = substr(rest, i + length($0), 1)
        if (after !~ /[a-z0-9-]/) { found = 1; break }
        rest = substr(rest, i + length($0))
      }
      if (!found) print "FAIL: " name " --help mentions " $0 "; " page " does not"
    }
  ' "$work/text" -)
  local line
  while read -r line; do
    case $line in
      FAIL:*) fail "${line#FAIL: }" ;;
      checked*) echo "$name: ${line#checked } options of --help checked against $page" ;;
    esac
  done <<<"$report"
}

# The key tables of tools/policy_file.cc: "NAME KEY KEY ..." lines, NAME as
# in k<NAME>Keys.
key_tables() {
  tr '\n' ' ' <"$src/tools/policy_file.cc" |
    grep -oE 'string_view k[A-Za-z]+Keys\[\] = \{[^}]*\}' |
    while read -r table; do
      local name
      name=$(sed -E 's/^string_view k([A-Za-z]+)Keys.*/\1/' <<<"$table")
      echo "$name $(grep -oE '"[a-z0-9_]+"' <<<"$table" | tr -d '"' | tr '\n' ' ')"
    done
}

# The integer settings of tools/config.cc: "FLAG KEY MIN MAX MULTIPLE" lines
# (MULTIPLE 1 when not given).
int_settings() {
  awk '/IntSettings\(\) \{/, /return kSettings/' "$src/tools/config.cc" |
    tr -d "'" | tr '\n' ' ' |
    grep -oE '\.(flag|key|min|max|multiple_of) = ("[^"]*"|[0-9A-Fa-fx]+)' |
    awk '
      function flush() { if (flag != "") print flag, key, min, max, (mult == "" ? 1 : mult) }
      { v = $3; gsub(/"/, "", v) }
      $1 == ".flag" { flush(); flag = v; key = ""; min = ""; max = ""; mult = "" }
      $1 == ".key" { key = v }
      $1 == ".min" { min = v }
      $1 == ".max" { max = v }
      $1 == ".multiple_of" { mult = v }
      END { flush() }
    '
}

# The range a page must state for an integer setting, as an ERE.
range_pattern() {
  local min=$1 max=$2 multiple=$3
  if ((multiple > 1)); then
    echo "multiple of $multiple"
  elif [[ $max =~ ^[0-9]+$ ]]; then
    echo "(^|[^0-9])$min( \\([^)]*\\))? to $max([^0-9]|\$)"
  fi
}

check_config_page() {
  local page=$man_dir/pxe-pdhcp.toml.5
  if [[ ! -f $page ]]; then
    fail "$page is missing"
    return
  fi
  local text tables
  text=$(normalize_roff <"$page")
  tables=$(key_tables)
  if [[ -z $tables ]] || ! grep -q '^Server ' <<<"$tables"; then
    fail "no key tables (kServerKeys, ...) found in tools/policy_file.cc"
    return
  fi
  local all_entries subsections
  all_entries=$(entries TABLES <<<"$text")
  subsections=$(grep '^@SS ' <<<"$text" | cut -c5-)
  local name keys count=0
  while read -r name keys; do
    local section=""
    case $name in
      Top)
        local key
        for key in $keys; do
          count=$((count + 1))
          grep -qE "^\[+$key[].]" <<<"$subsections" ||
            fail "pxe-pdhcp.toml(5) has no subsection for the table [$key]"
        done
        continue
        ;;
      Server) section='[server]' ;;
      Vlan) section='[[server.vlan]]' ;;
      Metrics) section='[metrics]' ;;
      Answer) section='[boot]' ;;
      Rule) section='[[rule]]' ;;
      Match) section='match' ;;
      Menu) section='[menu.NAME]' ;;
      Item) section='[[menu.NAME.item]]' ;;
      OptionValue)
        local body
        body=$(awk -F'\t' '$1 == "[boot]" && $2 ~ /^options/ { print $3 }' <<<"$all_entries")
        for key in $keys; do
          count=$((count + 1))
          grep -qw -- "$key" <<<"$body" ||
            fail "pxe-pdhcp.toml(5) [boot] options does not show the form { $key = ... }"
        done
        continue
        ;;
      *)
        fail "tools/policy_file.cc has k${name}Keys, which $0 does not know: add its subsection to pxe-pdhcp.toml(5) and here"
        continue
        ;;
    esac
    # The keys tagged in that subsection: a tag's first words, up to the
    # first that is not a key ("circuit_id, remote_id" tags two).
    local tagged
    tagged=$(awk -F'\t' -v s="$section" '
      $1 == s { n = split($2, w, /[ ,]+/)
                for (i = 1; i <= n && w[i] ~ /^[a-z][a-z0-9_]*$/; i++) print w[i] }
    ' <<<"$all_entries" | sort -u)
    if [[ -z $tagged ]]; then
      fail "pxe-pdhcp.toml(5) has no entries in a subsection \"$section\""
      continue
    fi
    for key in $keys; do
      count=$((count + 1))
      grep -qxF -- "$key" <<<"$tagged" ||
        fail "$section key $key (k${name}Keys in tools/policy_file.cc) is not in pxe-pdhcp.toml(5)"
    done
    local documented
    while read -r documented; do
      grep -qw -- "$documented" <<<"$keys" ||
        fail "pxe-pdhcp.toml(5) documents $section key $documented, which tools/policy_file.cc does not accept"
    done <<<"$tagged"
  done <<<"$tables"

  # Integer settings: flag and range, in both pages.
  local daemon_entries
  daemon_entries=$(normalize_roff <"$man_dir/pxe-pdhcp.8" | entries OPTIONS)
  local flag key min max multiple ints=0
  while read -r flag key min max multiple; do
    ints=$((ints + 1))
    local entry daemon_entry pattern
    entry=$(awk -F'\t' -v k="$key" '$1 == "[server]" && $2 == k { print $3 }' <<<"$all_entries")
    daemon_entry=$(awk -F'\t' -v f="--$flag" '
      { n = split($2, w, /[ ,]+/); for (i = 1; i <= n; i++) if (w[i] == f) { print $3; exit } }
    ' <<<"$daemon_entries")
    pattern=$(range_pattern "$min" "$max" "$multiple")
    local range="$min to $max"
    ((multiple > 1)) && range="a multiple of $multiple"
    grep -qE -- "--$flag([^a-z-]|$)" <<<"$entry" ||
      fail "pxe-pdhcp.toml(5) [server] $key does not name its flag --$flag"
    if [[ -n $pattern ]]; then
      grep -qE -- "$pattern" <<<"$entry" ||
        fail "pxe-pdhcp.toml(5) [server] $key does not give its range ($range)"
      grep -qE -- "$pattern" <<<"$daemon_entry" ||
        fail "pxe-pdhcp(8) --$flag does not give its range ($range)"
    fi
  done < <(int_settings)
  ((ints > 0)) || fail "no integer settings found in tools/config.cc IntSettings()"
  echo "pxe-pdhcp.toml(5): $count keys and $ints integer settings checked"
}

check_version() {
  local version
  version=$("$pdhcp" --version | sed -n 's/^pxe-pdhcp //p')
  if [[ -z $version ]]; then
    fail "pxe-pdhcp --version printed no version"
    return
  fi
  local page
  for page in "$man_dir"/*.[158]; do
    grep -qE "^\.TH .*\"pxe-pdhcp $version\"" "$page" ||
      fail "$page: its .TH does not name pxe-pdhcp $version"
  done
  if [[ -f $src/debian/changelog ]]; then
    local packaged
    packaged=$(sed -nE '1s/^[^ ]+ \(([^)]+)\).*/\1/p' "$src/debian/changelog")
    [[ ${packaged%-*} == "$version" ]] ||
      fail "debian/changelog is at $packaged, pxe-pdhcp --version says $version"
  fi
  echo "version $version: the pages and debian/changelog agree"
}

check_roff() {
  if ! command -v groff >/dev/null; then
    if every_test_must_run; then
      fail "groff is not installed (groff-base): the roff checks must run here"
    fi
    echo "groff is not installed: the roff checks are skipped"
    return
  fi
  if ! command -v man >/dev/null; then
    if every_test_must_run; then
      fail "man is not installed (man-db): man --warnings must run here"
    fi
    echo "man is not installed: man --warnings is skipped"
  fi
  local page out
  for page in "$man_dir"/*.[158]; do
    out=$(LC_ALL=C.UTF-8 groff -man -z -ww -Tutf8 "$page" 2>&1)
    [[ -z $out ]] || fail "groff -ww on $page: $out"
    if command -v man >/dev/null; then
      out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
      [[ -z $out ]] || fail "man --warnings on $page: $out"
    fi
  done
  echo "groff: no warnings"
}

run_checks() {
  check_program pxe-pdhcp "$pdhcp" "$man_dir/pxe-pdhcp.8"
  check_program pxe-probe "$probe" "$man_dir/pxe-probe.1"
  check_program pxe-storm "$storm" "$man_dir/pxe-storm.1"
  check_config_page
  check_version
  check_roff
}

if ((self_test == 0)); then
  run_checks
  if ((failures > 0)); then
    echo "$failures problem(s): bring doc/man/ in step with the programs" >&2
    exit 1
  fi
  exit 0
fi

# --self-test: each change below must make the checks fail.
tmp=$work/self-test
mkdir "$tmp"
# mutate NAME PAGE SED-SCRIPT: a copy of the pages with PAGE changed.
mutate() {
  local name=$1 page=$2 script=$3
  rm -rf "$tmp/man" && cp -r "$src/doc/man" "$tmp/man"
  sed -i -e "$script" "$tmp/man/$page"
  if cmp -s "$src/doc/man/$page" "$tmp/man/$page"; then
    echo "self-test: \"$name\" changed nothing in $page" >&2
    return 1
  fi
  if PXE_MAN_DIR=$tmp/man bash "$0" "$src" "$pdhcp" "$probe" "$storm" >/dev/null 2>&1; then
    echo "self-test: \"$name\" was not caught" >&2
    return 1
  fi
  echo "self-test: caught: $name"
}
status=0
rm -rf "$tmp/man" && cp -r "$src/doc/man" "$tmp/man"
if ! PXE_MAN_DIR=$tmp/man bash "$0" "$src" "$pdhcp" "$probe" "$storm" >/dev/null; then
  echo "self-test: the unchanged pages fail" >&2
  status=1
fi
mutate "pxe-probe --wait-full left out" pxe-probe.1 \
  '/^\\fB\\-\\-wait\\-full\\fR$/s/wait\\-full/wait\\-fully/' || status=1
mutate "pxe-pdhcp -c dropped from --config's tag" pxe-pdhcp.8 \
  's/^\\fB\\-c\\fR, \\fB\\-\\-config\\fR/\\fB\\-\\-config\\fR/' || status=1
mutate "pxe-pdhcp --offer-hold-ms default changed" pxe-pdhcp.8 \
  's/(default 300;/(default 250;/' || status=1
mutate "pxe-storm --bogus invented" pxe-storm.1 \
  's/^\\fB\\-\\-json\\fR$/\\fB\\-\\-json\\fR, \\fB\\-\\-bogus\\fR/' || status=1
mutate "[server] busy_poll_us left out" pxe-pdhcp.toml.5 \
  's/^\.B busy_poll_us$/.B busy_polling_us/' || status=1
mutate "match key vlan left out" pxe-pdhcp.toml.5 \
  '/^\.SS "match"/,/^\.SH/s/^\.B vlan$/.B vlans/' || status=1
mutate "[server] workers range changed" pxe-pdhcp.toml.5 \
  's/^Worker threads, 1 to 64/Worker threads, 1 to 32/' || status=1
# A new option in the program, not in its page.
cat >"$tmp/pxe-probe-plus" <<PLUS
#!/bin/sh
"$probe" "\$@" || exit
[ "\$1" = --help ] && echo "      --new-option N      something new (default 5)"
exit 0
PLUS
chmod +x "$tmp/pxe-probe-plus"
rm -rf "$tmp/man" && cp -r "$src/doc/man" "$tmp/man"
if PXE_MAN_DIR=$tmp/man bash "$0" "$src" "$pdhcp" "$tmp/pxe-probe-plus" "$storm" >/dev/null 2>&1; then
  echo "self-test: \"an option added to pxe-probe\" was not caught" >&2
  status=1
else
  echo "self-test: caught: an option added to pxe-probe"
fi
if command -v groff >/dev/null; then
  mutate "an unknown macro" pxe-probe.1 '/^\.SH OUTPUT$/i .XX oops' || status=1
fi
exit $status
