# The layers the build enforces (scripts/check_layers.sh): the real tree passes, and a copy
# with an include that crosses a layer upward fails, naming the file.
source "$(dirname "$0")/lib.sh"
SRC=${EVT_SOURCE_DIR:?}
expect_exit 0 bash "$SRC/scripts/check_layers.sh" "$SRC"
mkdir -p "$TMP/tree"
cp -r "$SRC/lib" "$SRC/formats" "$SRC/cmd" "$TMP/tree/"
echo '#include "lib/segment.h"' >>"$TMP/tree/formats/envelope/envelope.h"
expect_exit 1 bash "$SRC/scripts/check_layers.sh" "$TMP/tree"
expect_contains "$TMP/err" "formats/envelope/envelope.h"
cp "$SRC/formats/envelope/envelope.h" "$TMP/tree/formats/envelope/envelope.h"
echo '#include "lib/read.h"' >>"$TMP/tree/lib/kafka/source.cc"
expect_exit 1 bash "$SRC/scripts/check_layers.sh" "$TMP/tree"
expect_contains "$TMP/err" "lib/kafka/source.cc"
cp "$SRC/lib/kafka/source.cc" "$TMP/tree/lib/kafka/source.cc"
echo '#include "lib/segment.h"' >>"$TMP/tree/lib/base/file.h"
expect_exit 1 bash "$SRC/scripts/check_layers.sh" "$TMP/tree"
expect_contains "$TMP/err" "lib/base/file.h"
finish
