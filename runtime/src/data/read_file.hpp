// Reads a whole file, gunzipping it if it is gzip-compressed (zlib reads plain files as they are).
#pragma once
#include <optional>
#include <string>

namespace kiln::detail {

std::string read_possibly_gzipped(const std::string& path);

// Why `path` cannot be read as a data file ("file not found", "not a regular file": a device or
// pipe has no size to bound the read by), or nothing when it can.
std::optional<std::string> unreadable_reason(const std::string& path);

}  // namespace kiln::detail
