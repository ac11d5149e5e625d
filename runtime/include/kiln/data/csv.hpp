// CSV data sets as in examples/data: an optional header "n_samples,n_features,class…",
// then rows of features followed by the integer class label. gzip-compressed files work too.
#pragma once
#include <string_view>

#include "kiln/data/dataset.hpp"

namespace kiln {

Dataset load_csv(const std::string& path);
// The same from a file's (decompressed) text; `name` is the file in messages.
Dataset parse_csv(std::string_view content, const std::string& name);

}  // namespace kiln
