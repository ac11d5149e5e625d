// Installs a caching allocator for the memory generated kernels allocate (halide_malloc/free).
#pragma once

namespace kiln {
void install_caching_allocator();
}
