// All parameters of a model in one contiguous float buffer (and the gradients in another of the
// same layout), so optimizer updates, clipping and checkpoints are single passes.
#pragma once
#include <span>
#include <string>
#include <vector>

#include <kiln/contract/model_descriptor.hpp>

namespace kiln {

class Arena {
public:
    explicit Arena(const std::vector<ParamSpec>& params);

    std::span<float> all() { return values_; }
    std::span<const float> all() const { return values_; }
    std::span<float> operator[](std::size_t param) { return {values_.data() + offsets_[param], sizes_[param]}; }
    std::span<const float> operator[](std::size_t param) const {
        return {values_.data() + offsets_[param], sizes_[param]};
    }
    std::size_t count() const { return offsets_.size(); }
    std::size_t offset(std::size_t param) const { return offsets_[param]; }
    // Exchanges the values with another arena of the same layout (a fused step's next parameters
    // becoming current): no copy; spans taken before point at the other arena afterwards.
    void swap_values(Arena& other) { values_.swap(other.values_); }

private:
    std::vector<float> values_;
    std::vector<std::size_t> offsets_, sizes_;
};

}  // namespace kiln
