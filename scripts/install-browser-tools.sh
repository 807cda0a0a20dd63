#!/usr/bin/env bash
# The browser tests need Debian's chromium and MathJax 3 (npm); with `desktop`, the Anki desktop
# test also needs Anki's desktop app (aqt with its pinned Qt, from PyPI, the version of the installed
# `anki` test dependency) and a virtual display (Debian's Xvfb) with the X libraries Qt loads.
# Install whatever is missing when this machine allows it; otherwise say how, and those tests skip
# with the reason (in CI, where CI=true, they fail instead, so a missing tool never passes unnoticed).
set -u
cd "$(dirname "$0")/.."

apt_install() {  # apt_install WHAT PACKAGE...: install Debian packages as root, or say how
  local what=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $what (Debian)..."
    { [ -n "${APT_UPDATED:-}" ] || apt-get update -qq >/dev/null; } && APT_UPDATED=1 && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
      || echo "warning: could not install $what; the tests that need it will not run"
  else
    echo "note: no $what; install it (sudo apt-get install $*) to run the tests that need it"
  fi
}

if [ "${1:-}" = desktop ]; then
  # Qt's xcb platform plugin needs libxcb-cursor0 & co. beyond what chromium pulls in.
  if ! command -v Xvfb >/dev/null 2>&1 || ! ldconfig -p | grep -q libxcb-cursor.so.0; then
    apt_install "Xvfb and Qt's X libraries" xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
      libxcb-image0 libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libnss3 \
      libxkbfile1 libxshmfence1 libasound2 fonts-noto-cjk
  fi
  ANKI=$(.venv/bin/python -c "from importlib.metadata import version; print(version('anki'))" 2>/dev/null)
  if [ -z "$ANKI" ]; then
    echo "note: the anki package is not installed in .venv; run make test"
  elif ! .venv/bin/python -c "import aqt, PyQt6.QtWebEngineWidgets" >/dev/null 2>&1; then
    echo "installing Anki desktop (aqt[qt]==$ANKI, PyPI) into .venv..."
    .venv/bin/python -m pip install -q "aqt[qt]==$ANKI" \
      || echo "warning: could not install aqt; the Anki desktop test will not run"
  fi
  exit 0
fi

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  apt_install chromium chromium fonts-noto-cjk
fi

# CJK fonts: the cards and the diagrams' labels are Chinese; without them screenshots show boxes
# and the diagram layout test would measure a fallback font's widths.
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  apt_install "CJK fonts" fonts-noto-cjk
fi

MATHJAX=.venv/mathjax/node_modules/mathjax/es5/tex-svg-full.js
if [ ! -f "$MATHJAX" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing MathJax 3 (npm) into .venv/mathjax..."
    npm install --silent --no-audit --no-fund --prefix .venv/mathjax mathjax@3.2.2 >/dev/null \
      || echo "warning: could not install MathJax; browser tests will not run"
  else
    echo "note: no npm; install Node.js, or set ANKIBUILD_MATHJAX to a MathJax 3 tex-svg-full.js"
  fi
fi
exit 0
