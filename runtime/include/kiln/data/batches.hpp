// Seeded shuffling and batch assembly.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"

namespace kiln {

std::vector<int> shuffled_indices(int count, uint64_t seed);
// Gathers the given samples into a batch shaped for the model's input and supervision leaves.
Batch make_batch(const Dataset& data, std::span<const int> indices, const DataLeafSpec& supervision);
// The same into an existing batch, reusing its storage: a training loop's per-step gather, with no
// allocation (and no page faults on fresh memory) once the first step has sized it.
void gather_batch(const Dataset& data, std::span<const int> indices, const DataLeafSpec& supervision, Batch& batch);
// Checks once, before any training, that the data fits the model (features, label range, targets).
void check_data_fits(const Dataset& data, const ModelDescriptor& model);

}  // namespace kiln
