// `bench`: each generated stage timed on random data, with its GEMM and convolution FLOP rate and the fraction of
// this machine's measured FMA peak (kiln_fma_peak, all cores). Medians over repeated calls, after
// a warm-up, since shared machines are noisy; compare models side by side in one run.
#pragma once
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

struct StageTiming {
    std::string stage;
    double milliseconds = 0;  // median per call
    double gflops = 0;        // GEMM and convolution FLOPs (2·M·K·N per matmul, 2 per conv multiply-add) per second; elementwise work not counted
    double percent_of_peak = 0;
};

struct BenchResult {
    int batch = 0;
    double peak_gflops = 0;
    std::vector<StageTiming> stages;  // infer, evaluate, forward, backward, train_step (forward + backward + Adam)
};

// The attainable float32 FMA rate of this machine with the current thread pool, in GFLOP/s.
double measure_fma_peak();
BenchResult benchmark_model(Model& model, int batch, int iterations, uint64_t seed);

}  // namespace kiln
