// safetensors files: checkpoints (parameters + standardization, written atomically: temporary file,
// fsync, rename) and the tensors `grad` reads and writes, loadable from PyTorch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/data/standardize.hpp"
#include "kiln/model.hpp"

namespace kiln {

struct NamedTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;  // converted to float from F32, F64, I32 or I64 on reading
};

struct SafetensorsFile {
    std::map<std::string, NamedTensor> tensors;
    std::map<std::string, std::string> metadata;
};

SafetensorsFile read_safetensors(const std::string& path);
// Writes F32 tensors to `path` atomically: a crash leaves either the old file or the new one.
void write_safetensors(const std::string& path, const SafetensorsFile& file);

void save_checkpoint(const std::string& path, const Model& model, const Standardizer& standardizer, int epoch);
// Loads parameters (and the standardization) after checking the file belongs to this model.
Standardizer load_checkpoint(const std::string& path, Model& model);

}  // namespace kiln
