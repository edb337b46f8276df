#!/usr/bin/env bash
# Extract the public pages' strings and update every catalogue (new strings appear untranslated; Babel marks changed
# ones fuzzy). Translate in src/tnrwatch/web/translations/<lang>/LC_MESSAGES/messages.po; machine-made translations
# carry the translator comment "machine translation: review" until a person checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DIR=src/tnrwatch/web/translations
$BIN/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header -o "$DIR/messages.pot" src/tnrwatch/web
for lang in fr de ru zh ar fa tr; do
  if [ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]; then
    $BIN/pybabel update -i "$DIR/messages.pot" -d "$DIR" -l "$lang" --no-fuzzy-matching --ignore-obsolete
  else
    $BIN/pybabel init -i "$DIR/messages.pot" -d "$DIR" -l "$lang"
  fi
done
