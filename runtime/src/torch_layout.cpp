// Conversions between kiln's arena layout and PyTorch's module layout (torch_layout.hpp).
#include "kiln/torch_layout.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kiln/error.hpp"

namespace kiln {

namespace {
constexpr const char* layout_key = "layout";
constexpr const char* torch_layout = "torch";

std::string shape_text(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// [1 × n] (a bias, a per-channel weight or statistic) is a vector [n] in PyTorch.
std::vector<int64_t> module_shape(const TensorShape& shape) {
    if (shape.rows == 1 && shape.height == 1 && shape.width == 1) return {shape.cols};
    return shape.dims();
}

// W [rows × cols] ↔ Wᵀ [cols × rows].
void transpose(std::span<const float> from, int rows, int cols, std::span<float> to) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) to[std::size_t(c) * rows + r] = from[std::size_t(r) * cols + c];
}

// The shapes a kiln checkpoint written before the layout marker held: kiln's own, with [1 × n]
// also read as [n].
bool kiln_shape(const TensorShape& shape, const std::vector<int64_t>& found) {
    return found == shape.dims() || (shape.rows == 1 && found == std::vector<int64_t>{shape.cols});
}
}  // namespace

void mark_torch_layout(SafetensorsFile& file) {
    file.metadata["format"] = "kiln";
    file.metadata[layout_key] = torch_layout;
}

TensorLayout layout_of(const SafetensorsFile& file, const std::string& path) {
    if (auto layout = file.metadata.find(layout_key); layout != file.metadata.end()) {
        if (layout->second != torch_layout)
            fail("{}: metadata 'layout' is '{}'; this kiln reads '{}' (PyTorch's module layout)", path,
                 layout->second, torch_layout);
        return TensorLayout::torch;
    }
    auto format = file.metadata.find("format");
    if (format != file.metadata.end() && format->second == "kiln") return TensorLayout::kiln_before_torch;
    return TensorLayout::torch;  // not kiln's: PyTorch's (safetensors.torch.save_file(model.state_dict()))
}

std::vector<int64_t> torch_shape(const ParamSpec& spec) {
    if (spec.linear_weight) return {spec.cols, spec.rows};
    return module_shape(spec.shape());
}

std::vector<int64_t> torch_shape(const StateSpec& spec) { return module_shape(spec.shape()); }

NamedTensor to_torch(const ParamSpec& spec, std::span<const float> values) {
    NamedTensor tensor{torch_shape(spec), std::vector<float>(values.begin(), values.end())};
    if (spec.linear_weight) transpose(values, spec.rows, spec.cols, tensor.values);
    return tensor;
}

NamedTensor to_torch(const StateSpec& spec, std::span<const float> values) {
    return {torch_shape(spec), std::vector<float>(values.begin(), values.end())};
}

void from_torch(const ParamSpec& spec, const NamedTensor& tensor, TensorLayout layout, std::span<float> values,
                const std::string& path) {
    if (layout == TensorLayout::kiln_before_torch) {
        if (!kiln_shape(spec.shape(), tensor.shape) || tensor.values.size() != spec.size())
            fail("{}: tensor '{}' is {}; the model expects {} (a kiln checkpoint in kiln's own layout)", path,
                 spec.name, shape_text(tensor.shape), shape_text(spec.shape().dims()));
        std::copy(tensor.values.begin(), tensor.values.end(), values.begin());
        return;
    }
    const std::vector<int64_t> expected = torch_shape(spec);
    if (tensor.shape != expected) {
        std::string hint;
        if (spec.linear_weight && tensor.shape == spec.shape().dims())
            hint = ": a dense weight is [out × in], as nn.Linear stores it (this one is [in × out])";
        else if (spec.linear_weight)
            hint = fmt::format(": nn.Linear({}, {}).weight", spec.rows, spec.cols);
        fail("{}: tensor '{}' is {}; the model expects {} (PyTorch's layout){}", path, spec.name,
             shape_text(tensor.shape), shape_text(expected), hint);
    }
    if (spec.linear_weight) transpose(tensor.values, spec.cols, spec.rows, values);
    else std::copy(tensor.values.begin(), tensor.values.end(), values.begin());
}

void from_torch(const StateSpec& spec, const NamedTensor& tensor, TensorLayout layout, std::span<float> values,
                const std::string& path) {
    const bool ok = layout == TensorLayout::torch ? tensor.shape == torch_shape(spec)
                                                  : tensor.values.size() == spec.size();
    if (!ok)
        fail("{}: running statistic '{}' is {}; the model expects {}", path, spec.name, shape_text(tensor.shape),
             shape_text(layout == TensorLayout::torch ? torch_shape(spec) : spec.shape().dims()));
    std::copy(tensor.values.begin(), tensor.values.end(), values.begin());
}

std::string batches_tracked_name(const StateSpec& spec) {
    constexpr std::string_view suffix = ".running_mean";
    const std::string& name = spec.name;
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return {};
    return name.substr(0, name.size() - suffix.size()) + ".num_batches_tracked";
}

}  // namespace kiln
