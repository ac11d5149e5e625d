// Data-parallel training's reductions, broadcasts and replica checks (data_parallel.hpp).
#include "data_parallel.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>

#include "kiln/distributed.hpp"
#include "kiln/error.hpp"

namespace kiln::data_parallel {

namespace {

// A 64-bit fingerprint of bytes, for equality across ranks (not against an adversary): FNV-1a
// over 8-byte words, a word at a time (tens of milliseconds for Fashion-MNIST's 188 MB), then
// splitmix64's finalizer so that every input bit reaches every output bit.
uint64_t fingerprint(const void* data, std::size_t bytes, uint64_t hash) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::size_t at = 0;
    for (; at + 8 <= bytes; at += 8) {
        uint64_t word;
        std::memcpy(&word, p + at, 8);
        hash = (hash ^ word) * 0x100000001b3ull;
    }
    for (; at < bytes; ++at) hash = (hash ^ p[at]) * 0x100000001b3ull;
    hash ^= bytes;
    hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9ull;
    hash = (hash ^ (hash >> 27)) * 0x94d049bb133111ebull;
    return hash ^ (hash >> 31);
}
template <class T> uint64_t fingerprint(std::span<const T> values, uint64_t hash) {
    return fingerprint(values.data(), values.size_bytes(), hash);
}
constexpr uint64_t fingerprint_start = 0xcbf29ce484222325ull;

uint64_t fingerprint(const Dataset& set, uint64_t hash) {
    const int shape[] = {set.features.rows, set.features.cols, set.image_channels, set.image_rows, set.image_cols};
    hash = fingerprint(std::span<const int>(shape), hash);
    hash = fingerprint(std::span<const float>(set.features.values), hash);
    return fingerprint(std::span<const float>(set.labels), hash);
}

// The global batch's mean loss on every rank: each rank's mean over its rows, weighted by its
// share of the rows (the weight its gradients got), summed.
float global_loss(float local_loss, int local_rows, int global_rows) {
    const float weight = float(local_rows) / float(global_rows);
    double loss[1] = {local_rows == 0 ? 0.0 : double(local_loss) * weight};
    distributed::sum(std::span<double>(loss));
    return float(loss[0]);
}

}  // namespace

float reduce_gradients(Model& model, float local_loss, int local_rows, int global_rows) {
    if (!distributed::active()) return local_loss;
    const float weight = float(local_rows) / float(global_rows);
    std::span<float> gradients = model.gradients().all();
    if (local_rows == 0) std::fill(gradients.begin(), gradients.end(), 0.0f);  // no rows, no forward: nothing to add
    else if (local_rows != global_rows)
        for (float& g : gradients) g *= weight;
    distributed::sum(gradients);
    return global_loss(local_loss, local_rows, global_rows);
}

GradientBuckets::GradientBuckets(Model& model, std::size_t bucket_bytes)
    : model_(model), bucket_of_(model.params().count()) {
    if (!distributed::active() || bucket_bytes == 0 || !model.signals_gradients()) return;
    const Arena& gradients = model.gradients();
    for (std::size_t p = gradients.count(); p-- > 0;) {
        if (buckets_.empty() || (buckets_.back().end - buckets_.back().begin) * sizeof(float) >= bucket_bytes)
            buckets_.push_back({gradients.offset(p), gradients.offset(p) + gradients.storage(p).size(), 0, 0});
        Bucket& bucket = buckets_.back();
        bucket.begin = gradients.offset(p);  // the arena's order: parameter p before p + 1
        ++bucket.parameters;
        bucket_of_[p] = int(buckets_.size() - 1);
    }
    listener_ = [this](int parameter) {
        if (--buckets_.at(std::size_t(bucket_of_.at(std::size_t(parameter)))).missing == 0) start_ready_buckets();
    };
}

const GradientListener* GradientBuckets::begin_step(int local_rows, int global_rows) {
    local_rows_ = local_rows;
    global_rows_ = global_rows;
    next_ = 0;
    for (Bucket& bucket : buckets_) bucket.missing = bucket.parameters;
    return overlapping() ? &listener_ : nullptr;
}

void GradientBuckets::start_ready_buckets() {
    const float weight = float(local_rows_) / float(global_rows_);
    std::span<float> arena = model_.gradients().all();
    while (next_ < buckets_.size() && buckets_[next_].missing <= 0) {
        const Bucket& bucket = buckets_[next_++];
        distributed::start_sum(arena.subspan(bucket.begin, bucket.end - bucket.begin), weight);
    }
}

float GradientBuckets::finish_step(float local_loss) {
    if (!overlapping()) return reduce_gradients(model_, local_loss, local_rows_, global_rows_);
    if (local_rows_ == 0) {  // no rows, no backward stage: zeros, in the same buckets as every rank
        std::span<float> gradients = model_.gradients().all();
        std::fill(gradients.begin(), gradients.end(), 0.0f);
        for (Bucket& bucket : buckets_) bucket.missing = 0;
    }
    if (next_ < buckets_.size()) {
        // A stage that signalled fewer gradients than it has would leave a bucket unreduced.
        for (std::size_t b = next_; b < buckets_.size(); ++b)
            if (buckets_[b].missing > 0)
                fail("data-parallel step: the backward stage of '{}' signalled {} fewer gradients than it has",
                     model_.descriptor().name, buckets_[b].missing);
        start_ready_buckets();
    }
    distributed::wait_for_sums();
    return global_loss(local_loss, local_rows_, global_rows_);
}

void broadcast_model(Model& model) {
    distributed::broadcast(model.params().all());
    for (Tensor& state : model.states()) distributed::broadcast(std::span<float>(state.values));
}

void broadcast_preprocessor(Preprocessor& preprocessor) {
    for (Tensor* t : {&preprocessor.mean, &preprocessor.scale, &preprocessor.projection})
        distributed::broadcast(std::span<float>(t->values));
}

void average_running_statistics(Model& model, long& updates) {
    const long mine = std::exchange(updates, 0);
    if (!distributed::active() || model.states().empty()) return;
    double total[1] = {double(mine)};
    distributed::sum(std::span<double>(total));
    if (total[0] == 0) return;  // no rank folded a batch in: the statistics are still equal
    // A rank that folded in every batch (the others none) keeps its statistics bit for bit.
    const float weight = float(double(mine) / total[0]);
    for (Tensor& state : model.states()) {
        std::span<float> values(state.values);
        if (weight != 1.0f)
            for (float& v : values) v *= weight;
        distributed::sum(values);
    }
}

void require_equal_replicas(const Model& model, int epoch, double validation_loss) {
    if (!distributed::active()) return;
    uint64_t hash = fingerprint(model.params().all(), fingerprint_start);
    for (const Tensor& state : model.states()) hash = fingerprint(std::span<const float>(state.values), hash);
    hash = fingerprint(&validation_loss, sizeof validation_loss, hash);
    if (!distributed::same_on_every_rank(hash))
        fail(
            "data-parallel replicas differ after epoch {}: the ranks' parameters, running statistics or validation "
            "loss are no longer bit-identical (every rank must run the same binary on the same CPU kind; an allreduce that returned "
            "different sums to different ranks does this too)",
            epoch);
}

void require_same_data(const DataSplit& data) {
    if (!distributed::active()) return;
    uint64_t hash = fingerprint_start;
    for (const Dataset* set : {&data.train, &data.validation, &data.test}) hash = fingerprint(*set, hash);
    if (!distributed::same_on_every_rank(hash))
        fail(
            "rank {} of {}: the data differs between ranks (--data {}): every rank must read the same files, with "
            "the same --val-split and --seed",
            distributed::rank(), distributed::size(), data.train.source);
}

void require_same_data(const Dataset& data) {
    if (!distributed::active()) return;
    if (!distributed::same_on_every_rank(fingerprint(data, fingerprint_start)))
        fail("rank {} of {}: the data differs between ranks (--data {}): every rank must read the same files",
             distributed::rank(), distributed::size(), data.source);
}

uint64_t rank_seed(uint64_t seed) { return seed + uint64_t(distributed::rank()) * 0x632be59bd9b4e019ull; }

}  // namespace kiln::data_parallel
