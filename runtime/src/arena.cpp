// The parameter and gradient arenas: one contiguous buffer each, one stretch per parameter.
#include "kiln/arena.hpp"

namespace kiln {

Arena::Arena(const std::vector<ParamSpec>& params) {
    std::size_t total = 0;
    for (const ParamSpec& p : params) {
        total = (total + 31) / 32 * 32;  // 128 bytes: the arena's own alignment (AlignedAllocator)
        offsets_.push_back(total);
        sizes_.push_back(p.storage_size());
        strides_.push_back(std::size_t(p.row_stride()));
        shapes_.push_back(p.shape());
        total += p.storage_size();
    }
    values_.assign(total, 0.0f);  // the padding's zeros, and the gaps', for good
}

}  // namespace kiln
