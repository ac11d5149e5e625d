// Reads a whole file, gunzipping it if it is gzip-compressed (zlib reads plain files as they are).
#pragma once
#include <string>

namespace kiln::detail {

std::string read_possibly_gzipped(const std::string& path);

}  // namespace kiln::detail
