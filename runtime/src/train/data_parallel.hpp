// What data-parallel training adds to a step and an epoch (trainer.cpp): the reduction that turns
// a rank's gradients into the global batch's, the broadcasts that start every rank from rank 0's
// state, and the checks that the replicas stay equal. Every function is a no-op in one process.
#pragma once
#include <cstdint>

#include "kiln/data/dataset.hpp"
#include "kiln/data/preprocess.hpp"
#include "kiln/model.hpp"

namespace kiln::data_parallel {

// Each rank's loss and gradients are means over its local_rows of the global batch's global_rows:
// weighted by local_rows / global_rows and summed in place, they are the global batch's means on
// every rank (one allreduce of the gradient arena, one of the loss). Returns the global loss.
float reduce_gradients(Model& model, float local_loss, int local_rows, int global_rows);

// Rank 0's parameters and running statistics, or preprocessing, on every rank.
void broadcast_model(Model& model);
void broadcast_preprocessor(Preprocessor& preprocessor);

// The ranks' running statistics (batch norm) replaced by their mean, weighted by how many batches
// each rank folded into them since the last average (`updates`, which this resets): each rank saw
// only its slices, as with PyTorch's DDP and per-rank statistics, and a rank that had no rows
// (a global batch smaller than the job) has nothing to contribute.
void average_running_statistics(Model& model, long& updates);

// Fails unless every rank holds the same parameters and running statistics, bit for bit, and saw
// the same validation loss (which decides early stopping and the best checkpoint on every rank).
void require_equal_replicas(const Model& model, int epoch, double validation_loss);

// Fails unless every rank read the same training, validation and test samples: their shares of
// one shuffled order are only a partition of the data if the data is the same.
void require_same_data(const DataSplit& data);
void require_same_data(const Dataset& data);

// The seed of this rank's random draws (dropout masks, augmentation): each rank draws its own,
// and rank 0 keeps the run's, so that one process draws as rank 0 of a job would.
uint64_t rank_seed(uint64_t seed);

}  // namespace kiln::data_parallel
