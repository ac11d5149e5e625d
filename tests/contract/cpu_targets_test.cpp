// The CPU tiers and the feature check a model binary runs at start-up (cpu_targets.hpp), against
// CPUs described by the features they have.
#include <catch2/catch.hpp>
#include <kiln/contract/cpu_targets.hpp>
#include <set>

namespace {
// A CPU that has exactly `features` (and every name that is not a CPU feature).
auto cpu_with(std::set<std::string_view> features) {
    static const std::set<std::string_view> cpu_features{
        "sse41", "avx", "f16c", "fma", "avx2", "avx512", "avx512_knl", "avx512_skylake", "avx512_cannonlake",
        "avx512_sapphirerapids"};
    return [features](std::string_view f) { return !cpu_features.count(f) || features.count(f) > 0; };
}
}  // namespace

TEST_CASE("a target's missing CPU features are named in its order; OS and architecture are not features",
          "[contract]") {
    const std::string_view avx512 = kiln::cpu::tiers[0].target;
    CHECK(kiln::cpu::missing_features(avx512, cpu_with({"sse41", "avx", "f16c", "fma", "avx2", "avx512",
                                                        "avx512_skylake"}))
              .empty());
    // An AVX2 machine (Zen 2, Haswell … Alder Lake).
    const auto avx2 = cpu_with({"sse41", "avx", "f16c", "fma", "avx2"});
    CHECK(kiln::cpu::missing_features(avx512, avx2) == std::vector<std::string>{"avx512", "avx512_skylake"});
    CHECK(kiln::cpu::missing_features("x86-64-linux-sse41-no_runtime", cpu_with({})) ==
          std::vector<std::string>{"sse41"});
    CHECK(kiln::cpu::missing_features("x86-64-linux", cpu_with({})).empty());
}

TEST_CASE("the default target is the best tier the build machine runs", "[contract]") {
    CHECK(kiln::cpu::best_tier(cpu_with({"sse41", "avx", "f16c", "fma", "avx2", "avx512", "avx512_skylake",
                                         "avx512_cannonlake", "avx512_sapphirerapids"}))
              .name == "AVX-512");
    CHECK(kiln::cpu::best_tier(cpu_with({"sse41", "avx", "f16c", "fma", "avx2"})).name == "AVX2 + FMA");
    // AVX-512 F without VL/BW/DQ (Knights Landing) is not the AVX-512 tier, whose code uses them.
    CHECK(kiln::cpu::best_tier(cpu_with({"sse41", "avx", "f16c", "fma", "avx2", "avx512", "avx512_knl"})).name ==
          "AVX2 + FMA");
    CHECK(kiln::cpu::best_tier(cpu_with({"sse41"})).name == "SSE4.1");
    CHECK(kiln::cpu::best_tier(cpu_with({})).name == "x86-64");
}

TEST_CASE("this machine runs its own best tier", "[contract]") {
    const kiln::cpu::Tier& best = kiln::cpu::best_tier();
    INFO(best.target);
    CHECK(kiln::cpu::missing_features(best.target).empty());
    CHECK(kiln::cpu::supports("sse41"));  // every x86-64 machine kiln builds on since 2008
}

TEST_CASE("target lists and feature lists split into their non-empty pieces", "[contract]") {
    CHECK(kiln::cpu::split("x86-64-linux-avx2", '-') == std::vector<std::string>{"x86", "64", "linux", "avx2"});
    CHECK(kiln::cpu::target_list("a-b,,c-d,") == std::vector<std::string>{"a-b", "c-d"});
    CHECK(kiln::cpu::split("", ',').empty());
    CHECK(kiln::cpu::split(",,", ',').empty());
    CHECK(kiln::cpu::running_variant("x86-64-linux-avx512,x86-64-linux-sse41", cpu_with({"sse41"})) ==
          "x86-64-linux-sse41");
    CHECK(kiln::cpu::running_variant("x86-64-linux-avx512", cpu_with({})).empty());
}
