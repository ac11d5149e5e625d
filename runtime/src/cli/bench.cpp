// `bench`: every generated stage timed on random data, as ms, GEMM+conv GFLOP/s and % of the FMA peak
// measured in the same run.
#include <fmt/format.h>

#include "commands.hpp"
#include "kiln/cpu_check.hpp"
#include "kiln/bench.hpp"

namespace kiln::cli {

namespace {
struct BenchOptions {
    int batch = 128, iterations = 50;
    uint64_t seed = 0;
};

void run_bench(const Session& session, const BenchOptions& o) {
    const ModelDescriptor& d = session.model;
    Model model(d);
    BenchResult r = benchmark_model(model, o.batch, o.iterations, o.seed);
    fmt::print(stderr, "model {} (schedules: {}), batch {}, machine FMA peak {:.0f} GFLOP/s\nkernels for {}\n", d.name,
               d.scheduler, r.batch, r.peak_gflops, kernel_target_text(d));
    fmt::print(stderr, "{:<18} {:>10} {:>12} {:>10}\n", "stage", "ms", "GFLOP/s", "% of peak");
    nlohmann::json stages = nlohmann::json::array();
    for (const StageTiming& s : r.stages) {
        if (s.gflops > 0)
            fmt::print(stderr, "{:<18} {:>10.3f} {:>12.1f} {:>9.1f}%\n", s.stage, s.milliseconds, s.gflops,
                       s.percent_of_peak);
        else fmt::print(stderr, "{:<18} {:>10.3f} {:>12} {:>10}\n", s.stage, s.milliseconds, "-", "-");  // no GEMMs
        stages.push_back({{"stage", s.stage},
                          {"milliseconds", s.milliseconds},
                          {"gflops", s.gflops},
                          {"percent_of_peak", s.percent_of_peak}});
    }
    print_result({{"model", d.name},
                  {"scheduler", d.scheduler},
                  {"halide_target", d.halide_target},
                  {"batch", r.batch},
                  {"peak_gflops", r.peak_gflops},
                  {"stages", stages}});
}
}  // namespace

Command add_bench(CLI::App& app, const Session& session) {
    auto [bench, o] = new_command<BenchOptions>(
        app, "bench", "time every generated stage on random data: ms, GEMM+conv GFLOP/s, % of the measured FMA peak");
    bench->add_option("--batch", o->batch, "samples per call")->check(positive());
    bench->add_option("--iterations", o->iterations, "timed calls per stage (the median is reported)")
        ->check(positive());
    bench->add_option("--seed", o->seed, "seed for the random parameters and data");
    return {bench, [o, &session] { run_bench(session, *o); }};
}

}  // namespace kiln::cli
