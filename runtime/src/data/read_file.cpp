// Whole-file reads for the loaders: regular files only, sizes from the file system, gzip through
// zlib's inflate with an output bound checked as the output grows.
#include "read_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kiln/error.hpp"

namespace kiln::detail {

std::optional<std::string> unreadable_reason(const std::string& path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) return "file not found";
    if (!std::filesystem::is_regular_file(status)) return "not a regular file";
    return std::nullopt;
}

std::string read_regular_file(const std::string& path, std::string_view context) {
    const std::string prefix = context.empty() ? path : fmt::format("{}: {}", path, context);
    if (auto why = unreadable_reason(path)) fail("{}: {}", prefix, *why);
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: {}", prefix, std::strerror(errno));
    std::error_code error;
    const uint64_t size = std::filesystem::file_size(path, error);
    if (error) fail("{}: cannot read its size: {}", path, error.message());
    std::string bytes(size, '\0');
    in.read(bytes.data(), std::streamsize(size));
    if (uint64_t(in.gcount()) != size) fail("{}: read {} of its {} bytes", path, in.gcount(), size);
    return bytes;
}

namespace {
bool starts_gzip_member(const std::string& bytes, std::size_t at) {
    return bytes.size() - at >= 2 && uint8_t(bytes[at]) == 0x1f && uint8_t(bytes[at + 1]) == 0x8b;
}

// zlib's stream in RAII form: inflateEnd on every exit, including a thrown error.
struct Inflater {
    z_stream stream{};
    Inflater(const std::string& name) {
        if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) fail("{}: cannot start gzip decompression", name);
    }
    ~Inflater() { inflateEnd(&stream); }
};
}  // namespace

std::string gunzip_if_compressed(std::string bytes, const std::string& name) {
    if (!starts_gzip_member(bytes, 0)) return bytes;
    std::size_t limit;
    if (__builtin_mul_overflow(inflate_ratio, bytes.size(), &limit)) limit = SIZE_MAX;
    limit = std::max(limit, inflate_floor);

    Inflater inflater(name);
    z_stream& z = inflater.stream;
    std::string out;
    std::size_t consumed = 0;  // input bytes handed to zlib so far
    char chunk[1 << 16];
    while (true) {
        if (z.avail_in == 0 && consumed < bytes.size()) {  // avail_in is 32-bit: feed large inputs in pieces
            const std::size_t piece = std::min<std::size_t>(bytes.size() - consumed, UINT_MAX);
            z.next_in = reinterpret_cast<Bytef*>(bytes.data() + consumed);
            z.avail_in = uInt(piece);
            consumed += piece;
        }
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        const int status = inflate(&z, Z_NO_FLUSH);
        const std::size_t produced = sizeof chunk - z.avail_out;
        if (produced > limit - out.size())
            fail(
                "{}: gzip data expands beyond {} bytes ({}× its {} compressed bytes): refused as a decompression "
                "bomb; gunzip the file to load it uncompressed",
                name, limit, inflate_ratio, bytes.size());
        out.append(chunk, produced);
        if (status == Z_STREAM_END) {
            const std::size_t rest = consumed - z.avail_in;  // the offset just past this member
            // Zero padding after the last member (tape blocks) is ignored, as gzip -d ignores it.
            if (bytes.find_first_not_of('\0', rest) == std::string::npos) return out;
            if (!starts_gzip_member(bytes, rest))
                fail("{}: {} bytes of trailing data after the gzip stream (a damaged or concatenated file?)", name,
                     bytes.size() - rest);
            if (inflateReset(&z) != Z_OK) fail("{}: cannot continue gzip decompression", name);
            continue;
        }
        if (status == Z_BUF_ERROR && z.avail_in == 0 && consumed == bytes.size())
            fail("{}: truncated gzip stream (the file ends in the middle of compressed data)", name);
        if (status != Z_OK && status != Z_BUF_ERROR)
            fail("{}: corrupt gzip data: {}", name, z.msg ? z.msg : "unknown zlib error");
    }
}

std::string read_possibly_gzipped(const std::string& path) {
    return gunzip_if_compressed(read_regular_file(path, ""), path);
}

}  // namespace kiln::detail
