# Shared by the scripts that install from Debian: where this machine's apt sources point.
# Sourced, not run. Needs a `die` function from the caller.
# shellcheck shell=bash

# apt_uri SUITE: the first enabled `deb` URI that this machine's apt sources (one-line or
# deb822 format) give for SUITE. No mirror host is written in the project itself.
apt_uri() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in
      *.sources) awk -v s="$suite" '
          function flush() { if (deb && en && hit && uri != "") { print uri; found = 1; exit }
                             deb = 0; en = 1; hit = 0; uri = "" }
          BEGIN { en = 1 }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          tolower($1) == "types:"   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
          tolower($1) == "uris:"    { uri = $2 }
          tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
          tolower($1) == "enabled:" { if (tolower($2) == "no") en = 0 }
          END { if (!found) flush() }' "$f" ;;
      *) awk -v s="$suite" '
          $1 == "deb" { i = 2
                        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                        if ($(i + 1) == s) { print $i; exit } }' "$f" ;;
    esac
  done | head -n 1 | sed 's:/*$::'
}

host_codename() { (. /etc/os-release && echo "${VERSION_CODENAME:-}"); }

# The Debian mirror (and its security archive) that this machine's apt configuration uses.
debian_mirror() {
  local c u
  c=$(host_codename)
  [ -n "$c" ] || die "cannot read VERSION_CODENAME from /etc/os-release (set DEBIAN_MIRROR)"
  u=$(apt_uri "$c")
  [ -n "$u" ] || die "no 'deb' source for '$c' in /etc/apt (set DEBIAN_MIRROR=<Debian mirror URL>)"
  echo "$u"
}
debian_security_mirror() {
  local u
  u=$(apt_uri "$(host_codename)-security")
  echo "${u:-$(debian_mirror)-security}"
}
