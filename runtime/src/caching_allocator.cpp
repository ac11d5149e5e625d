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

// Each block starts with a header (its size, then the next free block of that size); the caller
// gets the memory after it. Free blocks form intrusive lists, one per size, and a size's list head
// stays in the map once created, so a warm training step allocates nothing here or on the heap.
struct Header {
    std::size_t size;
    void* next_free;
};
static_assert(sizeof(Header) <= alignment);

struct Cache {
    std::mutex mutex;
    std::map<std::size_t, void*> free_lists;  // size → first free block (nullptr: none now)
    std::size_t cached_bytes = 0;
};
Cache& cache() {
    static Cache* instance = new Cache;  // never destroyed: kernels may run during static destruction
    return *instance;
}

void* cached_malloc(void*, std::size_t size) {
    const std::size_t rounded = (size + alignment - 1) / alignment * alignment + alignment;
    {
        Cache& c = cache();
        std::lock_guard lock(c.mutex);
        auto found = c.free_lists.find(rounded);
        if (found != c.free_lists.end() && found->second) {
            void* block = found->second;
            found->second = static_cast<Header*>(block)->next_free;
            c.cached_bytes -= rounded;
            return static_cast<char*>(block) + alignment;
        }
    }
    void* block = std::aligned_alloc(alignment, rounded);
    if (!block) return nullptr;
    static_cast<Header*>(block)->size = rounded;
    return static_cast<char*>(block) + alignment;
}

void cached_free(void*, void* pointer) {
    if (!pointer) return;
    void* block = static_cast<char*>(pointer) - alignment;
    Header* header = static_cast<Header*>(block);
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.cached_bytes + header->size > cache_limit) {
        std::free(block);
        return;
    }
    void*& head = c.free_lists[header->size];
    header->next_free = head;
    head = block;
    c.cached_bytes += header->size;
}
}  // namespace

void install_caching_allocator() {
    halide_set_custom_malloc(cached_malloc);
    halide_set_custom_free(cached_free);
}

}  // namespace kiln
