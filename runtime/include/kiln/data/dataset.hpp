// A labelled data set in memory, and the loaders' common entry point.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln {

struct Dataset {
    std::string source;         // file(s) it came from, for messages
    Tensor features;            // [samples × features]
    std::vector<float> labels;  // one per sample: a class id, or a regression target
    std::vector<std::string> class_names;
    // Images (IDX files, or a CSV read with --image-shape): each sample is channels × rows × cols
    // pixels, channel-major then row-major (NCHW); 0: no image shape.
    int image_channels = 0, image_rows = 0, image_cols = 0;
    int size() const { return features.rows; }
};

struct DataSplit {
    Dataset train, test;
    Dataset validation;  // held out from train by hold_out_validation; empty: validate on test
};

// Declares every split's samples to be channels × height × width images (a CSV row has no shape of
// its own); throws kiln::Error naming the file when the pixels do not make up the features, or the
// files already hold images of another shape.
void declare_image_shape(DataSplit& data, int channels, int height, int width);
// Moves a seeded random `fraction` of the training samples into the validation set.
void hold_out_validation(DataSplit& data, double fraction, uint64_t seed);
// The samples at `indices`, in that order.
Dataset subset(const Dataset& data, std::span<const int> indices);

// A Fashion-MNIST-style directory of IDX files (train-*, t10k-*), or a CSV file (optionally
// gzip-compressed) split deterministically into 80% train / 20% test.
DataSplit load_data(const std::string& path);

}  // namespace kiln
