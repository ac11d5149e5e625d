// Reads a whole file through zlib, so gzip-compressed and plain files read alike.
#include "read_file.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kiln/error.hpp"

namespace kiln::detail {

std::optional<std::string> unreadable_reason(const std::string& path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) return "file not found";
    if (!std::filesystem::is_regular_file(status)) return "not a regular file";
    return std::nullopt;
}

std::string read_possibly_gzipped(const std::string& path) {
    if (auto why = unreadable_reason(path)) fail("{}: {}", path, *why);
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) fail("{}: cannot open: {}", path, std::strerror(errno));
    std::string content;
    char chunk[1 << 16];
    int got;
    while ((got = gzread(file, chunk, sizeof chunk)) > 0) content.append(chunk, std::size_t(got));
    int error_code = Z_OK;
    std::string message = got < 0 ? gzerror(file, &error_code) : "";
    int closed = gzclose(file);
    if (got < 0) fail("{}: corrupt gzip data: {}", path, message);
    if (closed == Z_BUF_ERROR) fail("{}: truncated gzip stream (the file ends in the middle of compressed data)", path);
    if (closed != Z_OK) fail("{}: error while reading (zlib code {})", path, closed);
    return content;
}

}  // namespace kiln::detail
