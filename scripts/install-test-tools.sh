#!/usr/bin/env bash
# Installs the system tools some tests use: LibreOffice (headless re-save and print to
# PDF, as an officer's Excel would; python3-uno to drive it) and poppler-utils (pdftotext, to read the PDF).
# Debian/Ubuntu, as root or with sudo. CI runs it; on your own machine run it once.
# The Python packages in tests/requirements.txt are installed by the tests themselves.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# LibreOffice's Python bridge: tests/tools/lo_refit_resave.py re-saves a filled form.
/usr/bin/python3 -c 'import uno' >/dev/null 2>&1 || need+=(python3-uno)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -eq 0 ]; then
  echo "test tools: already installed"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "test tools: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
