#include <zlib.h>

/// inflateInit2 is a macro over inflateInit2_; Swift cannot import function-like macros.
static inline int steward_inflate_init2(z_streamp strm, int window_bits) {
    return inflateInit2(strm, window_bits);
}
