// Generates kiln_fma_peak: a kernel that does nothing but independent fused multiply-adds in
// registers on every core, to measure this machine's attainable float32 FMA rate (the "peak" that
// `bench` reports percentages of). Each of `chains` accumulators per vector lane is updated
// a ← a·m + c `iterations` times; FLOPs = 2 · output size · iterations.
#include <Halide.h>

#include <cstdlib>
#include <iostream>

#include <kiln/codegen/kernel_targets.hpp>

using namespace Halide;

namespace {
// The kernel for one target: each task's `chains` accumulators are one register each (a vector of
// the target's float lanes), so 12 fit AVX2's 16 registers as well as AVX-512's 32; the output's
// size decides the task count, and FLOPs = 2 · size · iterations on every target.
Module peak_module(const std::string& name, const Target& target, const std::string& directory) {
    const int lanes = target.natural_vector_size<float>();
    constexpr int chains = 12;  // 12 independent FMAs in flight cover the 4-cycle latency of 2 FMA ports
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
    const std::vector<Argument> arguments{iterations, multiplier, addend};
    if (std::getenv("KILN_EMIT_STMT"))
        peak.compile_to_lowered_stmt(directory + "/" + name + ".stmt", arguments, Text, target);
    return peak.compile_to_module(arguments, name, target);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_peak_kernel OUTPUT_DIRECTORY TARGET\n";
        return 2;
    }
    // A multi-target build measures the peak of the variant the CPU runs (its vector width).
    const std::string directory = argv[1];
    kiln::codegen::compile_library(directory + "/kiln_fma_peak", "kiln_fma_peak", kiln::codegen::no_runtime_targets(argv[2]),
                                   [&](const std::string& name, const Target& target) {
                                       return peak_module(name, target, directory);
                                   });
    return 0;
}
