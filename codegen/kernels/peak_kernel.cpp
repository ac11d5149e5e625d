// Generates kiln_fma_peak: a kernel that does nothing but independent fused multiply-adds in
// registers on every core, to measure this machine's attainable float32 FMA rate (the "peak" that
// `bench` reports percentages of). Each of `chains` accumulators per vector lane is updated
// a ← a·m + c `iterations` times; FLOPs = 2 · chains · 16 · tasks · iterations.
#include <Halide.h>

#include <cstdlib>
#include <iostream>

#include <kiln/codegen/kernel_targets.hpp>

using namespace Halide;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_peak_kernel OUTPUT_DIRECTORY TARGET\n";
        return 2;
    }
    constexpr int lanes = 16, chains = 12;  // 12 independent FMAs in flight cover the 4-cycle latency of 2 FMA ports
    Param<int32_t> iterations("iterations");
    Param<float> multiplier("multiplier"), addend("addend");
    Var x("x"), lane("lane"), chain("chain"), task("task");
    RDom step(0, iterations, "step");
    // The accumulators live in a task-local buffer of 12 vectors that Halide keeps in registers
    // (constant size, fully unrolled and vectorized); the output is written once at the end.
    Func accumulator("accumulator");
    accumulator(x) = cast<float>(x) * 1e-6f;
    accumulator(x) = accumulator(x) * multiplier + addend + 0.0f * cast<float>(step);  // step: iterate, adds nothing
    Func peak("kiln_fma_peak");
    peak(x) = accumulator(x);
    peak.output_buffer().dim(0).set_min(0).set_stride(1);
    Var rest("rest");
    peak.split(x, rest, lane, lanes, TailStrategy::RoundUp)
        .split(rest, task, chain, chains, TailStrategy::RoundUp)
        .vectorize(lane)
        .unroll(chain)
        .parallel(task);
    accumulator.compute_at(peak, task).vectorize(x, lanes);
    Var vector_index("vector_index"), element("element");
    accumulator.update()
        .split(x, vector_index, element, lanes)
        .vectorize(element)
        .unroll(vector_index)
        .reorder(element, vector_index, step);
    const std::vector<Target> targets = kiln::codegen::no_runtime_targets(argv[2]);
    if (std::getenv("KILN_EMIT_STMT"))
        peak.compile_to_lowered_stmt(std::string(argv[1]) + "/kiln_fma_peak.stmt", {iterations, multiplier, addend},
                                     Text, targets.front());
    // A multi-target build measures the peak of the variant the CPU runs (its vector width).
    kiln::codegen::compile_library(peak, std::string(argv[1]) + "/kiln_fma_peak", "kiln_fma_peak",
                                   {iterations, multiplier, addend}, targets);
    return 0;
}
