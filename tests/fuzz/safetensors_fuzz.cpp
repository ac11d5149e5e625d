// safetensors checkpoints: the format reader, then the training progress in its metadata (what
// `train --resume` reads before any model-specific check).
#include "fuzz_input.hpp"
#include "kiln/training_progress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    return kiln::fuzz::refused_or_loaded([&] {
        const kiln::SafetensorsFile file = kiln::parse_safetensors(kiln::fuzz::bytes(data, size), "fuzz.safetensors");
        kiln::read_training_progress(file, "fuzz.safetensors");
    });
}
