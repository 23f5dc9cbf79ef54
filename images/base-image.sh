#!/usr/bin/env bash
# The images' base where no registry can be pulled from: Debian 12 (bookworm, whose python3 is
# 3.11) from a Debian mirror with debootstrap, with Python's venv, CA certificates and the OpenMP
# runtime LightGBM links, imported into the image store as NAME. Needs root (debootstrap).
# Usage: bash images/base-image.sh CONTAINER NAME ROOT_DIR   (what `make base-image` runs)
# REBUILD=1 makes it again when NAME exists; DEBIAN_MIRROR picks the mirror.
set -euo pipefail
container=$1 name=$2 root=$3
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -z "${REBUILD:-}" ] && "$container" image inspect "$name" >/dev/null 2>&1; then
    echo "$name is in the image store (REBUILD=1 makes it again)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "debootstrap needs root: run make base-image as root, or build on an upstream image" \
        "(make images PYTHON_IMAGE=python:3.11-slim-bookworm)" >&2
    exit 1
fi
started=$(date +%s)
rm -rf "$root"
mkdir -p "$(dirname "$root")"
trap 'rm -rf "$root" "$root.log"' EXIT
if ! debootstrap --variant=minbase --include=python3-venv,python-is-python3,ca-certificates,libgomp1 \
    bookworm "$root" "$mirror" >"$root.log" 2>&1; then
    tail -n 20 "$root.log" >&2
    echo "debootstrap from $mirror failed (its log above)" >&2
    exit 1
fi
# What an image does not need: package lists and caches, documentation, manual pages.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
tar -C "$root" -c . | "$container" import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python"]' - "$name" >/dev/null
python_version=$("$container" run --rm "$name" python --version)
echo "built $name ($python_version) in $(( $(date +%s) - started )) s," \
    "$("$container" image inspect --format '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1 / 1e6}')"
