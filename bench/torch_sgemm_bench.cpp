// The sgemm reference for kiln's GEMM rates: LibTorch's torch::mm (OpenBLAS underneath) on given
// shapes, float32, row-major C[M×N] = A[M×K]·B[K×N]. Prints one JSON object: GFLOP/s per shape
// and for the whole list (total FLOPs / total time), so a stage's GEMMs can be compared as a set.
// Usage: torch_sgemm_bench THREADS MxKxN [MxKxN …]
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: torch_sgemm_bench THREADS MxKxN [MxKxN ...]\n";
        return 2;
    }
    torch::set_num_threads(std::stoi(argv[1]));
    using clock = std::chrono::steady_clock;
    nlohmann::json shapes = nlohmann::json::array();
    double total_flops = 0, total_seconds = 0;
    for (int a = 2; a < argc; ++a) {
        int64_t m = 0, k = 0, n = 0;
        char x1 = 0, x2 = 0;
        std::istringstream spec(argv[a]);
        if (!(spec >> m >> x1 >> k >> x2 >> n) || x1 != 'x' || x2 != 'x' || m <= 0 || k <= 0 || n <= 0) {
            std::cerr << "torch_sgemm_bench: shape '" << argv[a] << "': expected MxKxN with positive sizes\n";
            return 2;
        }
        auto left = torch::randn({m, k}), right = torch::randn({k, n}), out = torch::empty({m, n});
        for (int i = 0; i < 3; ++i) torch::mm_out(out, left, right);
        double best = 1e30;
        for (int block = 0; block < 5; ++block) {  // the fastest of five blocks of ≥ 0.1 s
            int calls = 0;
            const auto start = clock::now();
            double elapsed = 0;
            do {
                torch::mm_out(out, left, right);
                ++calls;
                elapsed = std::chrono::duration<double>(clock::now() - start).count();
            } while (elapsed < 0.1);
            best = std::min(best, elapsed / calls);
        }
        const double flops = 2.0 * double(m) * double(k) * double(n);
        total_flops += flops;
        total_seconds += best;
        shapes.push_back({{"shape", argv[a]}, {"milliseconds", best * 1e3}, {"gflops", flops / best / 1e9}});
    }
    std::cout << nlohmann::json{{"framework", "libtorch sgemm"},
                                {"shapes", shapes},
                                {"gflops", total_flops / total_seconds / 1e9}}
                     .dump()
              << "\n";
}
