// Prints the Halide target of the best CPU tier this (the build) machine runs: CMake's default
// KILN_HALIDE_TARGET (contract/include/kiln/contract/cpu_targets.hpp has the tiers).
#include <iostream>
#include <kiln/contract/cpu_targets.hpp>

int main() { std::cout << kiln::cpu::best_tier().target; }
