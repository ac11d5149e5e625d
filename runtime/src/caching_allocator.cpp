// The generated kernels' scratch memory: a size-keyed cache of freed blocks, so a training step
// reuses the previous step's intermediate buffers instead of returning them to the OS and
// page-faulting them back in (halide_free was ~20% of the backward stage before).
#include "caching_allocator.hpp"

#include <HalideRuntime.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace kiln {

namespace {
constexpr std::size_t alignment = 128;                     // what Halide's own allocator guarantees
constexpr std::size_t cache_limit = std::size_t(1) << 30;  // cached bytes beyond this go back to the OS

struct Cache {
    std::mutex mutex;
    std::multimap<std::size_t, void*> free_blocks;  // by size
    std::size_t cached_bytes = 0;
};
Cache& cache() {
    static Cache* instance = new Cache;  // never destroyed: kernels may run during static destruction
    return *instance;
}

// Each block starts with a header holding its size; the caller gets the memory after it.
void* cached_malloc(void*, std::size_t size) {
    const std::size_t rounded = (size + alignment - 1) / alignment * alignment + alignment;
    {
        Cache& c = cache();
        std::lock_guard lock(c.mutex);
        auto found = c.free_blocks.find(rounded);
        if (found != c.free_blocks.end()) {
            void* block = found->second;
            c.free_blocks.erase(found);
            c.cached_bytes -= rounded;
            return static_cast<char*>(block) + alignment;
        }
    }
    void* block = std::aligned_alloc(alignment, rounded);
    if (!block) return nullptr;
    *static_cast<std::size_t*>(block) = rounded;
    return static_cast<char*>(block) + alignment;
}

void cached_free(void*, void* pointer) {
    if (!pointer) return;
    void* block = static_cast<char*>(pointer) - alignment;
    const std::size_t size = *static_cast<std::size_t*>(block);
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.cached_bytes + size > cache_limit) {
        std::free(block);
        return;
    }
    c.free_blocks.emplace(size, block);
    c.cached_bytes += size;
}
}  // namespace

void install_caching_allocator() {
    halide_set_custom_malloc(cached_malloc);
    halide_set_custom_free(cached_free);
}

}  // namespace kiln
