#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages dreamengine needs, if any are missing.
#   EGL + Mesa: headless OpenGL; PortAudio: live audio; ffmpeg: video; Xvfb: the window tests;
#   PulseAudio + the ALSA plugin: the virtual microphone the capture tests record from.
# Uses apt-get as root, sudo otherwise; says what to install when it can do neither.
set -euo pipefail

packages=(libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libglx-mesa0 libportaudio2 ffmpeg xvfb
          pulseaudio pulseaudio-utils libasound2-plugins)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "system-deps: not a Debian/Ubuntu system; please install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "system-deps: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
