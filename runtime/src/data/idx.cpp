// The IDX loader (MNIST's format): magic, dimensions and sizes checked before anything is allocated.
#include "kiln/data/idx.hpp"

#include <cstdint>
#include <limits>

#include "kiln/error.hpp"
#include "read_file.hpp"

namespace kiln {

namespace {
uint32_t big_endian(std::string_view bytes, std::size_t at) {
    auto b = [&](std::size_t i) { return uint32_t(uint8_t(bytes[at + i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// Parses the header of an unsigned-byte IDX file with `rank` dimensions; returns the dimensions.
std::vector<uint32_t> idx_header(std::string_view bytes, const std::string& path, int rank) {
    if (bytes.size() < 4) fail("{}: not an IDX file (only {} bytes)", path, bytes.size());
    const uint32_t magic = big_endian(bytes, 0);
    const uint32_t expected = 0x00000800u | uint32_t(rank);
    if (magic != expected)
        fail("{}: not an IDX file of unsigned bytes with {} dimensions (magic 0x{:08x}, expected 0x{:08x})", path, rank,
             magic, expected);
    const std::size_t header = 4 + 4 * std::size_t(rank);
    if (bytes.size() < header)
        fail("{}: truncated IDX header ({} bytes, expected at least {})", path, bytes.size(), header);
    std::vector<uint32_t> dims;
    std::size_t payload = 1;
    for (int d = 0; d < rank; ++d) {
        dims.push_back(big_endian(bytes, 4 + 4 * std::size_t(d)));
        if (__builtin_mul_overflow(payload, std::size_t(dims.back()), &payload))
            fail("{}: the header's dimensions multiply past any file size (dimension {} is {})", path, d + 1,
                 dims.back());
    }
    if (rank == 3 && dims[0] > uint32_t(std::numeric_limits<int>::max()))
        fail("{}: {} images exceed the {} a data set may hold", path, dims[0], std::numeric_limits<int>::max());
    // With no images the payload check below bounds nothing: the image size must fit on its own.
    if (rank == 3 &&
        (dims[1] > uint32_t(std::numeric_limits<int>::max()) || dims[2] > uint32_t(std::numeric_limits<int>::max()) ||
         uint64_t(dims[1]) * dims[2] > uint64_t(std::numeric_limits<int>::max())))
        fail("{}: {}×{} images exceed the {} pixels an image may hold", path, dims[1], dims[2],
             std::numeric_limits<int>::max());
    if (bytes.size() - header != payload)
        fail("{}: {} the header's sizes: expected {} data bytes, found {}", path,
             bytes.size() - header < payload ? "truncated, shorter than" : "longer than", payload,
             bytes.size() - header);
    return dims;
}
}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path) {
    return parse_idx(detail::read_possibly_gzipped(images_path), detail::read_possibly_gzipped(labels_path),
                     images_path, labels_path);
}

Dataset parse_idx(std::string_view images, std::string_view labels, const std::string& images_path,
                  const std::string& labels_path) {
    const auto image_dims = idx_header(images, images_path, 3);
    const auto label_dims = idx_header(labels, labels_path, 1);
    if (image_dims[0] != label_dims[0])
        fail("{} has {} images but {} has {} labels", images_path, image_dims[0], labels_path, label_dims[0]);
    const int count = int(image_dims[0]), pixels = int(uint64_t(image_dims[1]) * image_dims[2]);

    Dataset data;
    data.source = images_path;
    data.features = Tensor(count, pixels);
    data.image_channels = 1;
    data.image_rows = int(image_dims[1]);
    data.image_cols = int(image_dims[2]);
    const auto* pixel = reinterpret_cast<const uint8_t*>(images.data() + 16);
    for (std::size_t i = 0; i < data.features.size(); ++i) data.features.values[i] = float(pixel[i]) / 255.0f;
    const auto* label = reinterpret_cast<const uint8_t*>(labels.data() + 8);
    data.labels.assign(label, label + count);
    return data;
}

}  // namespace kiln
