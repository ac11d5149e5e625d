// Writes the one Halide runtime (thread pool, allocation, error handling, the CPU-feature checks of
// multi-target dispatch) that every generated kernel library of a binary shares; the kernels
// themselves are compiled with no_runtime. For several targets (best first) it is compiled for
// the last: the runtime must run on every CPU any variant does.
#include <Halide.h>

#include <iostream>
#include <kiln/contract/cpu_targets.hpp>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_halide_runtime OUTPUT.a TARGET[,TARGET…]\n";
        return 2;
    }
    const std::vector<std::string> targets = kiln::cpu::target_list(argv[2]);
    if (targets.empty()) {
        std::cerr << "kiln_halide_runtime: no Halide target in '" << argv[2] << "'\n";
        return 2;
    }
    Halide::compile_standalone_runtime(argv[1], Halide::Target(targets.back()));
    return 0;
}
