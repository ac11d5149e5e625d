// Metrics files: `report`'s reader and plots (every SVG and the page rendered in memory), and the
// prefix a resumed run keeps.
#include "fuzz_input.hpp"
#include "kiln/metrics_file.hpp"
#include "kiln/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view text = kiln::fuzz::bytes(data, size);
    const int resume_epoch = size ? int(data[0] % 8) : 0;
    if (kiln::metrics_prefix_through(text, resume_epoch) > size) __builtin_trap();  // a prefix, never more
    return kiln::fuzz::refused_or_loaded([&] { kiln::render_report(text, "fuzz-metrics.jsonl"); });
}
