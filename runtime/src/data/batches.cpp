#include "kiln/data/batches.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kiln/error.hpp"

namespace kiln {

std::vector<int> shuffled_indices(int count, uint64_t seed) {
    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    for (int i = count - 1; i > 0; --i) {  // Fisher–Yates, spelled out so the order is the same everywhere
        int j = int(rng() % uint64_t(i + 1));
        std::swap(order[i], order[j]);
    }
    return order;
}

void gather_batch(const Dataset& data, std::span<const int> indices, const DataLeafSpec& supervision, Batch& batch) {
    const int n = int(indices.size()), cols = data.features.cols;
    batch.features.rows = n;
    batch.features.cols = cols;
    batch.features.values.resize(std::size_t(n) * cols);  // keeps its storage from step to step
    for (int i = 0; i < n; ++i) std::copy_n(data.features.row(indices[i]), cols, batch.features.row(i));
    if (supervision.integer_labels) {
        batch.labels.resize(n);
        for (int i = 0; i < n; ++i) batch.labels[i] = int32_t(data.labels[indices[i]]);
    } else {
        batch.targets.rows = n;
        batch.targets.cols = 1;
        batch.targets.values.resize(n);
        for (int i = 0; i < n; ++i) batch.targets(i, 0) = data.labels[indices[i]];
    }
}

Batch make_batch(const Dataset& data, std::span<const int> indices, const DataLeafSpec& supervision) {
    Batch batch;
    gather_batch(data, indices, supervision, batch);
    return batch;
}

void check_data_fits(const Dataset& data, const ModelDescriptor& model) {
    if (data.features.cols != model.input.cols)
        fail("{}: model '{}' input '{}' expects {} features per sample, the data has {}", data.source, model.name, model.input.name,
             model.input.cols, data.features.cols);
    const DataLeafSpec& supervision = model.supervision;
    if (!supervision.integer_labels && supervision.cols != 1)
        fail("{}: model '{}' target '{}' has {} columns; data sets provide one label per sample", data.source, model.name,
             supervision.name, supervision.cols);
    for (int i = 0; i < data.size(); ++i) {
        const float label = data.labels[i];
        if (supervision.integer_labels && (label < 0 || label >= float(supervision.classes) || label != std::floor(label)))
            fail("{}: sample {}: label {} is out of range: model '{}' has classes 0..{}", data.source, i, label, model.name,
                 supervision.classes - 1);
        if (model.loss_kind == "bce_with_logits" && (label < 0 || label > 1))
            fail("{}: sample {}: label {} is not a probability in [0, 1], as bce_with_logits needs", data.source, i, label);
    }
    for (float v : data.features.values)
        if (!std::isfinite(v)) fail("{}: the features contain NaN or infinity", data.source);
}

}  // namespace kiln
