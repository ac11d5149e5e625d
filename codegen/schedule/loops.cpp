// The one place that maps a stored value to its loops: its loop facts (value.hpp), visited.
#include "kiln/codegen/schedule.hpp"

namespace kiln::codegen::schedule {

namespace {
void store(const std::vector<Halide::Func>& funcs) {
    for (Halide::Func f : funcs) f.compute_root();
}
}  // namespace

void stored_value(const Value& value, const FuncSchedule& knobs, const LoweringContext& context) {
    Halide::Func f = value.func;
    std::visit(
        [&](const auto& facts) {
            using Facts = std::decay_t<decltype(facts)>;
            if constexpr (std::is_same_v<Facts, loops::Pointwise>) {
                store(facts.stored_first);
                if (facts.flattened_image.image()) flattened_image(f, facts.flattened_image, knobs, context);
                else
                    elementwise(f, knobs, context, value.shape.image() ? value.shape.width : 0,
                                value.channels_innermost);
            } else if constexpr (std::is_same_v<Facts, loops::Reduction>) {
                reduction(f, facts.axis, knobs, context);
            } else if constexpr (std::is_same_v<Facts, loops::ChannelReduction>) {
                channel_reduction(f, knobs, context, facts);
            } else if constexpr (std::is_same_v<Facts, loops::SumComponent>) {
                f.compute_root();
                if (facts.schedules_sums) channel_sums(facts.sums, knobs, context, facts.facts);
            } else if constexpr (std::is_same_v<Facts, loops::Scalar>) {
                f.compute_root();
                store(facts.stored_first);
            } else if constexpr (std::is_same_v<Facts, loops::Transpose>) {
                transpose(f, knobs, context);
            } else if constexpr (std::is_same_v<Facts, loops::Conv>) {
                conv(facts, knobs, context);
            } else {
                gemm(facts.parts, knobs, facts.parts.output, context);
            }
        },
        value.loops);
}

void gemm_into(const Value& value, const FuncSchedule& knobs, Halide::Func consumer, const LoweringContext& context) {
    if (const auto* facts = std::get_if<loops::Conv>(&value.loops)) return conv_into(*facts, knobs, consumer, context);
    gemm(std::get<loops::Gemm>(value.loops).parts, knobs, consumer, context);
}

}  // namespace kiln::codegen::schedule
