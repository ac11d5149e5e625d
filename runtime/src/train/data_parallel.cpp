// Data-parallel training's reductions, broadcasts and replica checks (data_parallel.hpp).
#include "data_parallel.hpp"

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

}  // namespace

float reduce_gradients(Model& model, float local_loss, int local_rows, int global_rows) {
    if (!distributed::active()) return local_loss;
    const float weight = float(local_rows) / float(global_rows);
    std::span<float> gradients = model.gradients().all();
    if (local_rows == 0) std::fill(gradients.begin(), gradients.end(), 0.0f);  // no rows, no forward: nothing to add
    else if (local_rows != global_rows)
        for (float& g : gradients) g *= weight;
    distributed::sum(gradients);
    double loss[1] = {local_rows == 0 ? 0.0 : double(local_loss) * weight};
    distributed::sum(std::span<double>(loss));
    return float(loss[0]);
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
