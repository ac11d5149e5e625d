// The x86-64 CPU tiers kiln generates kernels for, as Halide targets, and what each Halide target
// feature needs of the CPU. CMake takes the build machine's best tier as the default
// KILN_HALIDE_TARGET (cmake/host_target.cpp); a model binary checks the features of the target
// its kernels were generated for before the first kernel runs (runtime/src/cli/cli.cpp), so that
// on a CPU without them it says which feature is missing instead of dying of an illegal
// instruction. Halide's own "host" detection is not used: Halide 14 names avx512_sapphirerapids
// on CPUs without all of its features (Zen 4 and 5), and for fp32 kernels the AVX-512 tier's code
// is the same.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace kiln::cpu {

struct Tier {
    std::string_view name;    // as people say it
    std::string_view target;  // as Halide spells it
};
// Best first: the default target is the first the build machine supports.
inline constexpr std::array tiers{
    Tier{"AVX-512", "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41"},
    Tier{"AVX2 + FMA", "x86-64-linux-avx-avx2-f16c-fma-sse41"},
    Tier{"SSE4.1", "x86-64-linux-sse41"},
    Tier{"x86-64", "x86-64-linux"},
};

namespace detail {
struct Registers {
    uint32_t leaf1_ecx = 0, leaf7_ebx = 0, leaf7_ecx = 0, leaf7_1_eax = 0;
    uint64_t xcr0 = 0;  // the register state the OS saves: AVX and AVX-512 need it enabled
};
inline Registers read_registers() {
    Registers r;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) r.leaf1_ecx = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        r.leaf7_ebx = b;
        r.leaf7_ecx = c;
    }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) r.leaf7_1_eax = a;
    if (r.leaf1_ecx & (1u << 27)) {  // OSXSAVE: xgetbv is available
        uint32_t low, high;
        __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
        r.xcr0 = (uint64_t(high) << 32) | low;
    }
#endif
    return r;
}
}  // namespace detail

// Whether this CPU (and its OS) supports a Halide target feature. Names that are not CPU features
// (the architecture, the OS, no_runtime, large_buffers, …) are always supported.
inline bool supports(std::string_view feature) {
    static const detail::Registers r = detail::read_registers();
    auto bit = [](uint32_t reg, int i) { return (reg >> i) & 1u; };
    const bool avx_state = (r.xcr0 & 0x6) == 0x6, avx512_state = avx_state && (r.xcr0 & 0xe0) == 0xe0;
    if (feature == "sse41") return bit(r.leaf1_ecx, 19);
    if (feature == "avx") return avx_state && bit(r.leaf1_ecx, 28);
    if (feature == "f16c") return avx_state && bit(r.leaf1_ecx, 29);
    if (feature == "fma") return avx_state && bit(r.leaf1_ecx, 12);
    if (feature == "avx2") return avx_state && bit(r.leaf7_ebx, 5);
    if (feature == "avx512") return avx512_state && bit(r.leaf7_ebx, 16) && bit(r.leaf7_ebx, 28);  // F, CD
    if (feature == "avx512_knl") return avx512_state && bit(r.leaf7_ebx, 26) && bit(r.leaf7_ebx, 27);  // PF, ER
    if (feature == "avx512_skylake")  // VL, BW, DQ
        return avx512_state && bit(r.leaf7_ebx, 31) && bit(r.leaf7_ebx, 30) && bit(r.leaf7_ebx, 17);
    if (feature == "avx512_cannonlake")  // IFMA, VBMI
        return avx512_state && bit(r.leaf7_ebx, 21) && bit(r.leaf7_ecx, 1);
    if (feature == "avx512_sapphirerapids")  // VNNI, BF16
        return avx512_state && bit(r.leaf7_ecx, 11) && bit(r.leaf7_1_eax, 5);
    return true;
}

// The non-empty pieces of `text` between `separator`s: a target's features ('-') or a list of
// targets or feature names (',').
inline std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> pieces;
    for (std::size_t begin = 0; begin <= text.size();) {
        std::size_t end = text.find(separator, begin);
        if (end == std::string_view::npos) end = text.size();
        if (end > begin) pieces.emplace_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return pieces;
}

// The CPU features of `target` ("x86-64-linux-avx-avx2-…") that `has` denies, in the target's order.
inline std::vector<std::string> missing_features(std::string_view target,
                                                 const std::function<bool(std::string_view)>& has = supports) {
    std::vector<std::string> missing;
    for (const std::string& feature : split(target, '-'))
        if (!has(feature)) missing.push_back(feature);
    return missing;
}

// A comma-separated list of Halide targets ("avx512 target,avx2 target,…"): the variants one
// binary carries, best first, as Halide's multi-target libraries take them. Each generated
// function runs the first variant whose features the CPU has, else the last.
inline std::vector<std::string> target_list(std::string_view list) { return split(list, ','); }

// The variant of `list` this CPU runs (as Halide's dispatch chooses it), or empty when the CPU
// lacks even the last variant's features.
inline std::string running_variant(std::string_view list,
                                   const std::function<bool(std::string_view)>& has = supports) {
    for (const std::string& target : target_list(list))
        if (missing_features(target, has).empty()) return target;
    return {};
}

// The best tier this CPU runs (the last, plain x86-64, always).
inline const Tier& best_tier(const std::function<bool(std::string_view)>& has = supports) {
    for (const Tier& tier : tiers)
        if (missing_features(tier.target, has).empty()) return tier;
    return tiers.back();
}

}  // namespace kiln::cpu
