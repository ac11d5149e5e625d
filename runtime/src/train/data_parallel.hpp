// What data-parallel training adds to a step and an epoch (trainer.cpp): the reduction that turns
// a rank's gradients into the global batch's, the broadcasts that start every rank from rank 0's
// state, and the checks that the replicas stay equal. Every function is a no-op in one process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kiln/data/dataset.hpp"
#include "kiln/data/preprocess.hpp"
#include "kiln/gradient_signals.hpp"
#include "kiln/model.hpp"

namespace kiln::data_parallel {

// Each rank's loss and gradients are means over its local_rows of the global batch's global_rows:
// weighted by local_rows / global_rows and summed in place, they are the global batch's means on
// every rank (one allreduce of the gradient arena, one of the loss). Returns the global loss.
float reduce_gradients(Model& model, float local_loss, int local_rows, int global_rows);

// The same reduction in buckets that start while the backward stage still runs (PyTorch DDP's
// gradient buckets): the stage signals each gradient as it completes, last layer first
// (gradient_signals.hpp), and a bucket — a run of consecutive parameters, the last ones first, of
// at least `bucket_bytes` — starts reducing as soon as all of its gradients are in and every
// bucket before it has started. The buckets and their order are the same on every rank whatever
// the timing, so the ranks issue the same sums in the same order. Off (one reduction after the
// stage, reduce_gradients) in one process, with bucket_bytes 0, and for a backward stage without
// signals (a Halide autoscheduler's).
class GradientBuckets {
public:
    GradientBuckets(Model& model, std::size_t bucket_bytes);
    bool overlapping() const { return !buckets_.empty(); }
    std::size_t bucket_count() const { return buckets_.size(); }

    // A step begins on this rank's local_rows of global_rows: what the backward stage must call
    // (null when not overlapping).
    const GradientListener* begin_step(int local_rows, int global_rows);
    // After the stage (or instead of it, on a rank without rows): starts what has not started,
    // waits for every bucket and returns the global loss, as reduce_gradients does.
    float finish_step(float local_loss);

private:
    struct Bucket {
        std::size_t begin = 0, end = 0;  // floats of the gradient arena
        int missing = 0;                 // parameters whose gradient has not signalled this step
        int parameters = 0;
    };
    void start_ready_buckets();

    Model& model_;
    std::vector<Bucket> buckets_;  // in start order: the last parameters first
    std::vector<int> bucket_of_;   // parameter → its bucket
    std::size_t next_ = 0;         // the next bucket to start
    int local_rows_ = 0, global_rows_ = 0;
    GradientListener listener_;
};

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
