// Models whose stages carry three CPU variants (AVX-512, AVX2 + FMA, SSE4.1: kiln_add_model's
// TARGETS), each chosen in turn by telling Halide's dispatch that the CPU lacks the better ones:
// every variant computes the stages the double reference does — an MLP (GEMM tiles) and a
// network of wide convolutions (convolution tiles), each variant's tiles sized for its registers. Halide picks a stage's variant at
// its first call and keeps it, so each case needs a process of its own (ctest runs them so).
#include <HalideRuntime.h>

#include <algorithm>

#include <kiln/contract/cpu_targets.hpp>

#include "channel_tiles_portable.kiln.h"
#include "check_stages.hpp"
#include "models/channel_tiles.hpp"
#include "models/regularized.hpp"
#include "regularized_portable.kiln.h"

namespace {
std::vector<halide_target_feature_t> denied;  // what the dispatch is told this CPU lacks
int queries = 0;                              // variants the dispatch asked about (all but the last)
using Features = std::vector<uint64_t>;        // a variant's feature bits, 64 to a word
std::vector<Features> accepted;               // the variants it took

bool has(const Features& features, halide_target_feature_t feature) {
    return std::size_t(feature / 64) < features.size() && (features[feature / 64] >> (feature % 64)) & 1;
}

int dispatch(int count, const uint64_t* words) {
    ++queries;
    const Features features(words, words + count);
    for (halide_target_feature_t f : denied)
        if (has(features, f)) return 0;
    const int usable = halide_default_can_use_target_features(count, words);
    if (usable) accepted.push_back(features);
    return usable;
}

void check_every_stage() {
    halide_set_custom_can_use_target_features(dispatch);
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            kiln_test::check_stages(kiln::models::regularized_portable(), regularized::network, batch, 71 + batch);
            kiln_test::check_stages(kiln::models::channel_tiles_portable(), channel_tiles::network, batch, 91 + batch, 8);
        }
    }
    INFO("Halide's dispatch was not asked: an earlier case in this process chose the variants (run one per process)");
    REQUIRE(queries > 0);
}

constexpr halide_target_feature_t avx512_features[] = {halide_target_feature_avx512, halide_target_feature_avx512_skylake};
constexpr halide_target_feature_t avx_features[] = {halide_target_feature_avx, halide_target_feature_avx2,
                                                    halide_target_feature_fma, halide_target_feature_f16c};
}  // namespace

TEST_CASE("the descriptor names every variant, best first", "[codegen]") {
    const std::vector<std::string> targets = kiln::cpu::target_list(kiln::models::regularized_portable().halide_target);
    REQUIRE(targets.size() == 3);
    CHECK(targets[0] == kiln::cpu::tiers[0].target);
    CHECK(targets[2] == kiln::cpu::tiers[2].target);
}

TEST_CASE("a multi-target model: the best variant this CPU runs computes the reference's stages", "[codegen]") {
    check_every_stage();
    // Halide's wrapper asks about every variant but the last (in no particular order) and runs the
    // first that is usable: the AVX-512 one, where this CPU has it.
    if (kiln::cpu::missing_features(kiln::cpu::tiers[0].target).empty())
        CHECK(std::any_of(accepted.begin(), accepted.end(),
                          [](const Features& f) { return has(f, halide_target_feature_avx512_skylake); }));
}

TEST_CASE("a multi-target model: its AVX2 + FMA variant computes the reference's stages", "[codegen]") {
    if (!kiln::cpu::missing_features(kiln::cpu::tiers[1].target).empty()) {
        WARN("this CPU has no AVX2 + FMA: its variant is not run here");
        return;
    }
    denied.assign(std::begin(avx512_features), std::end(avx512_features));
    check_every_stage();
    REQUIRE(!accepted.empty());
    for (const Features& mask : accepted) {
        CHECK(has(mask, halide_target_feature_avx2));
        CHECK(!has(mask, halide_target_feature_avx512));
    }
}

TEST_CASE("a multi-target model: its SSE4.1 fallback computes the reference's stages", "[codegen]") {
    denied.assign(std::begin(avx512_features), std::end(avx512_features));
    denied.insert(denied.end(), std::begin(avx_features), std::end(avx_features));
    check_every_stage();
    CHECK(accepted.empty());  // every better variant refused: the last one runs unasked
}
