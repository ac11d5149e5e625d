// IDX images and labels (MNIST's format), uncompressed: the input holds both files.
#include "fuzz_input.hpp"
#include "kiln/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const auto [images, labels] = kiln::fuzz::two_files(kiln::fuzz::bytes(data, size));
    // (named copies: clang 14 cannot capture structured bindings)
    const std::string_view image_file = images, label_file = labels;
    return kiln::fuzz::refused_or_loaded(
        [&] { kiln::parse_idx(image_file, label_file, "fuzz-images-idx3-ubyte", "fuzz-labels-idx1-ubyte"); });
}
