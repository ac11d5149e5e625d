// The parameter and gradient arenas: one contiguous buffer each, one span per parameter.
#include "kiln/arena.hpp"

namespace kiln {

Arena::Arena(const std::vector<ParamSpec>& params) {
    std::size_t total = 0;
    for (const ParamSpec& p : params) {
        offsets_.push_back(total);
        sizes_.push_back(p.size());
        total += p.size();
    }
    values_.assign(total, 0.0f);
}

}  // namespace kiln
