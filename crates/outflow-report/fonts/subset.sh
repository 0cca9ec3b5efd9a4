#!/usr/bin/env bash
# Regenerates DejaVuSans-subset.ttf from Debian's fonts-dejavu-core (2.37) with fontTools' subsetter
# (`pip install fonttools==4.60.1`): Latin-1, Greek, dashes/quotes/ellipsis, arrows and the few math
# signs the plots use; no hinting. The family name stays "DejaVu Sans" (the licence only forbids
# "Bitstream" and "Vera" in the names of modified fonts).
set -euo pipefail
cd "$(dirname "$0")"
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  --unicodes="U+0020-007E,U+00A0-00FF,U+0391-03A9,U+03B1-03C9,U+2010-2027,U+2030,U+2070-207F,U+2032-2033,U+2190-2193,U+2212,U+2211,U+221A,U+221D,U+221E,U+2248,U+2260,U+2264-2265,U+25A0,U+25B2,U+25BC,U+25CF,U+25CB,U+2715" \
  --layout-features='kern' --no-hinting --desubroutinize --drop-tables+=FFTM,MATH --name-IDs='*' \
  --output-file=DejaVuSans-subset.ttf
