// IDX files (MNIST's format), gzip-compressed or not: images as floats in [0, 1], labels as ids.
#pragma once
#include "kiln/data/dataset.hpp"

namespace kiln {

Dataset load_idx(const std::string& images_path, const std::string& labels_path);

}  // namespace kiln
