// IDX files (MNIST's format), gzip-compressed or not: images as floats in [0, 1], labels as ids.
#pragma once
#include <string_view>

#include "kiln/data/dataset.hpp"

namespace kiln {

Dataset load_idx(const std::string& images_path, const std::string& labels_path);
// The same from the files' (decompressed) bytes; the names are the files in messages.
Dataset parse_idx(std::string_view images, std::string_view labels, const std::string& images_name,
                  const std::string& labels_name);

}  // namespace kiln
