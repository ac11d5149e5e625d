// Parameter initialization from the descriptor's initializer specs, seeded and deterministic.
#pragma once
#include <cstdint>

#include "kiln/arena.hpp"

namespace kiln {

// Fan-in is a weight's rows (inputs), fan-out its columns (units): Glorot and He scale by them.
void initialize(Arena& params, const std::vector<ParamSpec>& specs, uint64_t seed);

}  // namespace kiln
