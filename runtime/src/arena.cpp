// The parameter and gradient arenas: one contiguous buffer each, one stretch per parameter.
#include "kiln/arena.hpp"

#include <stdexcept>

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

std::size_t Arena::value_count() const {
    std::size_t total = 0;
    for (const TensorShape& shape : shapes_) total += shape.size();
    return total;
}

std::vector<float> Arena::values_of(std::span<const float> laid_out) const {
    if (laid_out.size() != values_.size())
        throw std::logic_error("Arena::values_of: a buffer of " + std::to_string(laid_out.size()) +
                               " floats, the arena has " + std::to_string(values_.size()));
    std::vector<float> values;
    values.reserve(value_count());
    for (std::size_t p = 0; p < count(); ++p)
        for (float v : this->values(laid_out.data(), p)) values.push_back(v);
    return values;
}

std::vector<float> Arena::laid_out(std::span<const float> values) const {
    if (values.size() != value_count())
        throw std::logic_error("Arena::laid_out: " + std::to_string(values.size()) + " values, the arena has " +
                               std::to_string(value_count()));
    std::vector<float> laid(values_.size(), 0.0f);
    std::size_t next = 0;
    for (std::size_t p = 0; p < count(); ++p)
        for (float& v : this->values(laid.data(), p)) v = values[next++];
    return laid;
}

}  // namespace kiln
