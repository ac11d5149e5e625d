// Writes the one Halide runtime (thread pool, allocation, error handling) that every generated
// kernel library of a binary shares; the kernels themselves are compiled with no_runtime.
#include <Halide.h>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_halide_runtime OUTPUT.a TARGET\n";
        return 2;
    }
    Halide::compile_standalone_runtime(argv[1], Halide::Target(argv[2]));
    return 0;
}
