// Shared by the stage and fused-step tests: a padded parameter's zeros (ParamSpec::row_stride), which
// the stages read as a GEMM's padding, are never written — by a stage or an optimizer.
#pragma once
#include <catch2/catch.hpp>
#include <kiln/arena.hpp>
#include <string>

namespace kiln::test {

inline void require_padding_zero(const kiln::ModelDescriptor& d, const kiln::Arena& arena, const std::string& what) {
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        const kiln::ParamSpec& p = d.params[i];
        for (int r = 0; r < p.rows; ++r)
            for (int c = p.shape().per_row(); c < p.row_stride(); ++c) {
                INFO(what << " " << p.name << " row " << r << " padding column " << c);
                REQUIRE(arena.storage(i)[std::size_t(r) * std::size_t(p.row_stride()) + std::size_t(c)] == 0.0f);
            }
    }
}

}  // namespace kiln::test
