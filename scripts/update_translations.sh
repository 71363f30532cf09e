#!/bin/sh
# Re-extract the messages, merge them into every catalog under translations/, and compile the .mo
# files (they are committed, so the app needs no build step).
#
#   scripts/update_translations.sh            extract, update, compile
#   scripts/update_translations.sh ur         also start a new catalog for the locale "ur" first
#
# After running it, translate the new (empty) entries in translations/<lang>/LC_MESSAGES/
# messages.po, then run it again to compile. PYBABEL overrides the pybabel to use.
set -eu

cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
[ -x "$PYBABEL" ] || PYBABEL=pybabel

# ".* __pycache__" skips .venv and caches; pybabel's default would also skip templates/_macros.
"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs=".* __pycache__" \
    --add-comments=TRANSLATORS: --project="Merchant portal" -o translations/messages.pot .

if [ $# -gt 0 ]; then
    for locale in "$@"; do
        if [ ! -f "translations/$locale/LC_MESSAGES/messages.po" ]; then
            "$PYBABEL" init -i translations/messages.pot -d translations -l "$locale"
        fi
    done
fi

# No fuzzy matching: its guesses ("What" -> "Kuwait") cost a translator more than an empty entry.
"$PYBABEL" update -i translations/messages.pot -d translations --ignore-obsolete --no-fuzzy-matching
"$PYBABEL" compile -d translations --statistics
