#include "common/image_memory.hpp"

#include <malloc.h>

namespace facefuse {

void keep_image_memory() {
#if defined(__GLIBC__)
    // Setting either one turns off glibc's own adjustment of both, so both are set. Neither can
    // fail for these values; if one did, the process would only be slower, as before.
    (void)mallopt(M_MMAP_THRESHOLD, static_cast<int>(kKeptBlockBytes));
    (void)mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptFreeBytes));
#endif
}

}  // namespace facefuse
