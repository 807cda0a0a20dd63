#!/usr/bin/env bash
# The browser tests need Debian's chromium and MathJax 3 (npm). Install whatever is missing when
# this machine allows it; otherwise say how, and the browser tests skip with the reason (in CI,
# where CI=true, they fail instead, so a missing browser can never pass unnoticed).
set -u
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian) for the browser tests..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null \
      || echo "warning: could not install chromium; browser tests will not run"
  else
    echo "note: no chromium; install it (sudo apt-get install chromium) to run the browser tests"
  fi
fi

# CJK fonts: the cards and the diagrams' labels are Chinese; without them screenshots show boxes
# and the diagram layout test would measure a fallback font's widths.
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing fonts-noto-cjk (Debian) for the browser tests..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null \
      || echo "warning: could not install fonts-noto-cjk; CJK text will not render in the browser tests"
  else
    echo "note: no CJK fonts; install them (sudo apt-get install fonts-noto-cjk) for the browser tests"
  fi
fi

MATHJAX=.venv/mathjax/node_modules/mathjax/es5/tex-svg.js
if [ ! -f "$MATHJAX" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing MathJax 3 (npm) into .venv/mathjax..."
    npm install --silent --no-audit --no-fund --prefix .venv/mathjax mathjax@3.2.2 >/dev/null \
      || echo "warning: could not install MathJax; browser tests will not run"
  else
    echo "note: no npm; install Node.js, or set ANKIBUILD_MATHJAX to a MathJax 3 tex-svg.js"
  fi
fi
exit 0
