// safetensors files (Hugging Face's format, loadable from PyTorch): the checkpoints and the
// tensors `grad` reads and writes. Read as strictly as the reference implementation reads them.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct NamedTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;  // converted to float from F32, F64, I32 or I64 on reading
    std::string dtype = "F32";  // as read; written as F32 or I64 (counts, rounded from the values)
};

struct SafetensorsFile {
    std::map<std::string, NamedTensor> tensors;
    std::map<std::string, std::string> metadata;
};

// Reads a regular file at its real size; throws kiln::Error naming the file, tensor and field of
// anything malformed: header length or JSON, dtype, shape, offsets out of range, overlapping or
// leaving gaps, bytes outside every tensor, values that are NaN or infinite as floats.
SafetensorsFile read_safetensors(const std::string& path);
// The same from a file's bytes; `name` is the file in messages.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& name);
// Writes the tensors (F32, or I64 where dtype says so) to `path` atomically: a crash leaves either the old file or the new one.
// The new file keeps the replaced file's mode; a symbolic link is written through.
void write_safetensors(const std::string& path, const SafetensorsFile& file);

}  // namespace kiln
