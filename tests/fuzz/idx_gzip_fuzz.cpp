// IDX images and labels as gzip files (as Fashion-MNIST ships them): the bounded decompressor,
// then the IDX reader on what it produced.
#include "data/read_file.hpp"
#include "fuzz_input.hpp"
#include "kiln/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const auto [images, labels] = kiln::fuzz::two_files(kiln::fuzz::bytes(data, size));
    // (named copies: clang 14 cannot capture structured bindings)
    const std::string_view image_file = images, label_file = labels;
    return kiln::fuzz::refused_or_loaded([&] {
        const std::string image_bytes = kiln::detail::gunzip_if_compressed(std::string(image_file), "fuzz-images.gz");
        const std::string label_bytes = kiln::detail::gunzip_if_compressed(std::string(label_file), "fuzz-labels.gz");
        kiln::parse_idx(image_bytes, label_bytes, "fuzz-images.gz", "fuzz-labels.gz");
    });
}
