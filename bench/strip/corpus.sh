# bench/strip/corpus.sh - sourced by run.sh and batch.sh: the photo corpus both time.
# corpus_files DIR fills the array files with every picture of DIR that tipline strips
# (the malformed_* files and the EXIF-only libexif sample are left out: the other tools
# fail on them too).
corpus_files() {
  files=()
  local f b
  for f in "$1"/*.jpg "$1"/*.png "$1"/*.webp "$1"/*.mpo; do
    b=$(basename "$f")
    case $b in malformed_*|libexif_*) continue ;; esac
    files+=("$f")
  done
}
