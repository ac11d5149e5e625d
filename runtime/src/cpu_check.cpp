// The start-up CPU check (cpu_check.hpp).
#include "kiln/cpu_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <HalideRuntime.h>

#include <algorithm>
#include <cstdlib>
#include <kiln/contract/cpu_targets.hpp>

#include "kiln/error.hpp"

namespace kiln {

namespace {
// The features KILN_PRETEND_CPU_LACKS names.
std::vector<std::string> pretended_absent() {
    const char* pretend = std::getenv("KILN_PRETEND_CPU_LACKS");
    return pretend ? cpu::split(pretend, ',') : std::vector<std::string>{};
}

// This CPU as the check sees it: minus the features KILN_PRETEND_CPU_LACKS names.
bool has(std::string_view feature) {
    static const std::vector<std::string> absent = pretended_absent();
    return std::find(absent.begin(), absent.end(), feature) == absent.end() && cpu::supports(feature);
}

// Halide's dispatch between a multi-target library's variants, told the same: a variant that
// needs a feature KILN_PRETEND_CPU_LACKS names is passed over.
std::vector<int> absent_halide_features;
int can_use_target_features(int count, const uint64_t* features) {
    for (int f : absent_halide_features)
        if (f / 64 < count && (features[f / 64] >> (f % 64)) & 1) return 0;
    return halide_default_can_use_target_features(count, features);
}

std::string tier_name(std::string_view target) {
    for (const cpu::Tier& tier : cpu::tiers)
        if (tier.target == target) return std::string(tier.name);
    return "a custom target";
}
}  // namespace

namespace {
// Refuses the kernels `list` names when this CPU runs none of their variants.
void require_variant(const std::string& list, const std::string& whose) {
    if (!cpu::running_variant(list, has).empty()) return;
    // Halide's dispatch falls back to the last variant: the one whose features are the minimum.
    const std::vector<std::string> targets = cpu::target_list(list);
    const std::string lowest = targets.empty() ? list : targets.back();
    const std::vector<std::string> missing = cpu::missing_features(lowest, has);
    const cpu::Tier& best = cpu::best_tier(has);
    fail("this CPU lacks {} ({} CPU feature{}), which {} were generated for: {} ({}). Rebuild kiln and the "
         "model on a machine of this kind (the default target is the build machine's best: {} here), or "
         "configure the build with -DKILN_HALIDE_TARGET={} (a comma-separated list of targets gives a binary "
         "that carries several variants)",
         fmt::join(missing, ", "), missing.size() == 1 ? "a Halide" : "Halide", missing.size() == 1 ? "" : "s",
         whose, tier_name(lowest), lowest, best.name, best.target);
}
}  // namespace

void require_cpu_features(const ModelDescriptor& model) {
    require_variant(model.halide_target, fmt::format("the kernels of model '{}'", model.name));
    require_variant(KILN_RUNTIME_HALIDE_TARGET, "kiln's runtime kernels (the Halide runtime, the optimizers)");
}

void steer_kernel_dispatch() {
    const std::pair<const char*, halide_target_feature_t> features[] = {
        {"sse41", halide_target_feature_sse41},
        {"avx", halide_target_feature_avx},
        {"avx2", halide_target_feature_avx2},
        {"fma", halide_target_feature_fma},
        {"f16c", halide_target_feature_f16c},
        {"avx512", halide_target_feature_avx512},
        {"avx512_knl", halide_target_feature_avx512_knl},
        {"avx512_skylake", halide_target_feature_avx512_skylake},
        {"avx512_cannonlake", halide_target_feature_avx512_cannonlake},
        {"avx512_sapphirerapids", halide_target_feature_avx512_sapphirerapids}};
    for (const auto& [name, feature] : features)
        if (!has(name)) absent_halide_features.push_back(feature);
    if (!absent_halide_features.empty()) halide_set_custom_can_use_target_features(can_use_target_features);
}

std::string kernel_target_text(const ModelDescriptor& model) {
    const std::vector<std::string> targets = cpu::target_list(model.halide_target);
    const std::string running = cpu::running_variant(model.halide_target, has);
    std::string text;
    for (const std::string& target : targets)
        text += fmt::format("{}{} ({}){}", text.empty() ? "" : ", ", tier_name(target), target,
                            targets.size() > 1 && target == running ? " [this CPU runs it]" : "");
    return fmt::format("{}; this CPU's best tier: {}", text, cpu::best_tier(has).name);
}

}  // namespace kiln
