// CSV data sets, plain or gzip-compressed.
#include "data/read_file.hpp"
#include "fuzz_input.hpp"
#include "kiln/data/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    return kiln::fuzz::refused_or_loaded([&] {
        const std::string text =
            kiln::detail::gunzip_if_compressed(std::string(kiln::fuzz::bytes(data, size)), "fuzz.csv");
        kiln::parse_csv(text, "fuzz.csv");
    });
}
