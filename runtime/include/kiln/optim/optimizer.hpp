// Optimizers: each step is one call of a Halide-generated kernel over the whole arena.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kiln/arena.hpp"

namespace kiln {

struct OptimizerSettings {
    std::string name = "adam";  // sgd | momentum | adam
    float lr = 1e-3f;
    float momentum = 0.9f;
    float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual void step(Arena& params, Arena& gradients) = 0;
    float lr = 0;
};

// Throws kiln::Error naming the flag if the name is not a known optimizer.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, std::size_t arena_size);
const std::vector<std::string>& optimizer_names();

}  // namespace kiln
