// Data sets: loading a directory of IDX files or a CSV file, and splitting off a validation set.
#include "kiln/data/dataset.hpp"

#include <algorithm>
#include <filesystem>

#include "kiln/data/batches.hpp"
#include "kiln/data/csv.hpp"
#include "kiln/data/idx.hpp"
#include "kiln/error.hpp"

namespace kiln {

Dataset subset(const Dataset& data, std::span<const int> indices) {
    Dataset out;
    out.source = data.source;
    out.class_names = data.class_names;
    out.image_channels = data.image_channels;
    out.image_rows = data.image_rows;
    out.image_cols = data.image_cols;
    out.features = Tensor(int(indices.size()), data.features.cols);
    for (std::size_t i = 0; i < indices.size(); ++i) {
        std::copy_n(data.features.row(indices[i]), data.features.cols, out.features.row(int(i)));
        out.labels.push_back(data.labels[indices[i]]);
    }
    return out;
}

void hold_out_validation(DataSplit& data, double fraction, uint64_t seed) {
    if (!(fraction > 0 && fraction < 1)) fail("--val-split: must be a fraction in (0, 1), got {}", fraction);
    const int count = int(data.train.size() * fraction);
    if (count < 1 || count >= data.train.size())
        fail("--val-split {}: holds out {} of {} training samples; both parts must be non-empty", fraction, count,
             data.train.size());
    std::vector<int> order = shuffled_indices(data.train.size(), seed ^ 0x5eed5eedull);
    std::span<const int> indices(order);
    data.validation = subset(data.train, indices.last(std::size_t(count)));
    data.train = subset(data.train, indices.first(order.size() - std::size_t(count)));
    data.validation.source = data.train.source + " (validation hold-out)";
}

namespace {
std::string idx_file(const std::filesystem::path& directory, const std::string& stem) {
    for (const char* suffix : {".gz", ""}) {
        auto path = directory / (stem + suffix);
        if (std::filesystem::exists(path)) return path.string();
    }
    fail("{}: missing {}(.gz): expected a Fashion-MNIST/MNIST directory of IDX files", directory.string(), stem);
}
}  // namespace

DataSplit load_data(const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) fail("--data: no data path given");
    if (!fs::exists(path)) fail("{}: no such file or directory", path);
    if (fs::is_directory(path)) {
        return {load_idx(idx_file(path, "train-images-idx3-ubyte"), idx_file(path, "train-labels-idx1-ubyte")),
                load_idx(idx_file(path, "t10k-images-idx3-ubyte"), idx_file(path, "t10k-labels-idx1-ubyte")),
                {}};
    }
    Dataset all = load_csv(path);
    if (all.size() < 2) fail("{}: need at least 2 samples to hold some out for testing", path);
    // A fixed split (seed 0), independent of the training seed, so eval sees the same test set.
    std::vector<int> order = shuffled_indices(all.size(), 0);
    const std::size_t test_count = std::max<std::size_t>(1, order.size() / 5);
    std::span<const int> indices(order);
    return {subset(all, indices.first(order.size() - test_count)), subset(all, indices.last(test_count)), {}};
}

void declare_image_shape(DataSplit& data, int channels, int height, int width) {
    for (Dataset* split : {&data.train, &data.validation, &data.test}) {
        if (split->size() == 0) continue;  // no validation split held out
        if (int64_t(channels) * height * width != split->features.cols)
            fail("--image-shape {}×{}×{}: {} values per image, but {} has {} features per sample", channels, height,
                 width, int64_t(channels) * height * width, split->source, split->features.cols);
        if (split->image_rows > 0 &&
            (split->image_channels != channels || split->image_rows != height || split->image_cols != width))
            fail("--image-shape {}×{}×{}: {} holds {}×{}×{} images already", channels, height, width, split->source,
                 split->image_channels, split->image_rows, split->image_cols);
        split->image_channels = channels;
        split->image_rows = height;
        split->image_cols = width;
    }
}

}  // namespace kiln
