// Reading untrusted files whole: regular files at their real size, gzip decompressed with a bound.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::detail {

// Why `path` cannot be read as a data file ("file not found", "not a regular file": a device or
// pipe has no size to bound the read by), or nothing when it can.
std::optional<std::string> unreadable_reason(const std::string& path);

// A regular file's bytes, read at its real size (never a size its contents claim). `context`
// goes between the path and the reason in messages ("cannot open safetensors file").
std::string read_regular_file(const std::string& path, std::string_view context);

// Decompression is bounded so that a small file cannot claim the machine's memory (a "zip bomb"):
// gzip data may expand to at most max(inflate_floor, inflate_ratio × its compressed size). Real
// data sets compress far less (Fashion-MNIST's images 1.8×, MNIST's 4.7×); a file beyond the
// bound can still be loaded after `gunzip`, since an uncompressed file is bounded by its own size.
inline constexpr std::size_t inflate_floor = std::size_t(64) << 20;
inline constexpr std::size_t inflate_ratio = 32;

// gzip bytes (one or more members, as gzip and zlib write them) decompressed within the bound
// above; other bytes returned as they are. `name` is the file in messages.
std::string gunzip_if_compressed(std::string bytes, const std::string& name);

// read_regular_file, then gunzip_if_compressed.
std::string read_possibly_gzipped(const std::string& path);

}  // namespace kiln::detail
