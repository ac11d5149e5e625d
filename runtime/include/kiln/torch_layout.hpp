// PyTorch's layout of a model's tensors, which checkpoints, `grad --params` and `grad`'s output
// speak: each parameter under its layer's name in the shape of the matching PyTorch module's
// tensor — a dense weight [out × in] as nn.Linear's (kiln multiplies x·W with W [in × out]), a
// bias or per-channel weight [n] (kiln's [1 × n]), a conv filter [out, in, kh, kw] (the same in
// both) — and batch norm's num_batches_tracked beside its running statistics, so that a
// checkpoint's tensors load into the equivalent torch.nn.Sequential with strict=True.
#pragma once
#include <span>
#include <string>
#include <vector>

#include <kiln/contract/model_descriptor.hpp>

#include "kiln/safetensors.hpp"

namespace kiln {

// The layout a file's tensors are in, from its metadata.
enum class TensorLayout {
    torch,              // "layout": "torch" — or a file without kiln's metadata, as PyTorch writes one
    kiln_before_torch,  // "format": "kiln" without "layout": written before kiln spoke PyTorch's layout
};
// The metadata that marks a file written in PyTorch's layout.
void mark_torch_layout(SafetensorsFile& file);
// Throws kiln::Error naming `path` for a layout this kiln does not know.
TensorLayout layout_of(const SafetensorsFile& file, const std::string& path);

std::vector<int64_t> torch_shape(const ParamSpec& spec);
std::vector<int64_t> torch_shape(const StateSpec& spec);
// kiln's values (its arena's layout) as the tensor PyTorch's module holds.
NamedTensor to_torch(const ParamSpec& spec, std::span<const float> values);
NamedTensor to_torch(const StateSpec& spec, std::span<const float> values);
// Reads `tensor`, in `layout`, into kiln's layout: `values` holds spec.size() floats. Throws
// kiln::Error naming the file, the tensor, its shape and the shape expected.
void from_torch(const ParamSpec& spec, const NamedTensor& tensor, TensorLayout layout, std::span<float> values,
                const std::string& path);
void from_torch(const StateSpec& spec, const NamedTensor& tensor, TensorLayout layout, std::span<float> values,
                const std::string& path);

// nn.BatchNorm's step counter beside a running mean ("bn1.running_mean" → "bn1.num_batches_tracked",
// an I64 scalar); empty for any other running statistic.
std::string batches_tracked_name(const StateSpec& spec);

}  // namespace kiln
