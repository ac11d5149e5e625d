// What every harness shares: the input as bytes, split in two where a loader reads two files, and
// the one outcome a loader may have besides success (kiln::Error, a message naming the file).
// Anything else — a crash, a sanitizer report, another exception, a hang, an allocation beyond
// libFuzzer's limit — is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "kiln/error.hpp"

namespace kiln::fuzz {

inline std::string_view bytes(const uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Two files from one input: the first two bytes (little-endian) give the first file's length.
inline std::pair<std::string_view, std::string_view> two_files(std::string_view input) {
    if (input.size() < 2) return {input, {}};
    const std::size_t first = std::size_t(uint8_t(input[0])) | std::size_t(uint8_t(input[1])) << 8;
    input.remove_prefix(2);
    const std::size_t cut = first < input.size() ? first : input.size();
    return {input.substr(0, cut), input.substr(cut)};
}

template <class Load> int refused_or_loaded(Load&& load) {
    try {
        load();
    } catch (const kiln::Error&) {}
    return 0;
}

}  // namespace kiln::fuzz
