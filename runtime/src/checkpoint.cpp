// Checkpoints: a model's parameters, running statistics and preprocessing (and, for resuming, the
// training progress) in a safetensors file, checked against the model on loading.
#include "kiln/checkpoint.hpp"

#include <algorithm>

#include "data/read_file.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/torch_layout.hpp"

namespace kiln {

namespace {
constexpr const char* format_tag = "kiln";
std::vector<float> plain(const Tensor& t) { return {t.values.begin(), t.values.end()}; }
}  // namespace

void save_checkpoint(const std::string& path, const Model& model, const Preprocessor& preprocessor, int epoch,
                     long steps, const TrainingProgress* progress) {
    const ModelDescriptor& d = model.descriptor();
    SafetensorsFile file;
    file.metadata = {{"format", format_tag}, {"model", d.name}, {"epoch", std::to_string(epoch)}};
    mark_torch_layout(file);
    if (progress) record_training_progress(file, *progress);
    // The network's tensors as the equivalent PyTorch modules hold them (torch_layout.hpp).
    for (std::size_t i = 0; i < d.params.size(); ++i) file.tensors[d.params[i].name] = to_torch(d.params[i], model.params()[i].dense());
    for (std::size_t i = 0; i < d.states.size(); ++i) {
        file.tensors[d.states[i].name] = to_torch(d.states[i], model.states()[i].values);
        // Every training step updates batch norm's running statistics, as PyTorch counts them.
        if (std::string counter = batches_tracked_name(d.states[i]); !counter.empty())
            file.tensors[counter] = {{}, {float(steps)}, "I64"};
    }
    file.tensors["__standardize.mean"] = {{1, preprocessor.mean.cols}, plain(preprocessor.mean)};
    file.tensors["__standardize.scale"] = {{1, preprocessor.scale.cols}, plain(preprocessor.scale)};
    file.metadata["preprocess"] = preprocessor.kind;
    if (preprocessor.projection.size() > 0)
        file.tensors["__preprocess.projection"] = {{preprocessor.projection.rows, preprocessor.projection.cols},
                                                   plain(preprocessor.projection)};
    write_safetensors(path, file);
}

Preprocessor load_checkpoint(const std::string& path, Model& model, TrainingProgress* progress) {
    const ModelDescriptor& d = model.descriptor();
    // In a data-parallel job rank 0 reads the file (the others' machines need not hold it) and
    // every rank parses the same bytes.
    std::string bytes;
    if (distributed::root()) bytes = detail::read_regular_file(path, "cannot open safetensors file");
    distributed::broadcast(bytes);
    SafetensorsFile file = parse_safetensors(bytes, path);
    if (progress) *progress = read_training_progress(file, path);
    auto tag = file.metadata.find("model");
    if (tag != file.metadata.end() && tag->second != d.name)
        fail("{}: checkpoint of model '{}', not of '{}'", path, tag->second, d.name);
    // PyTorch's layout (the marker, or a file PyTorch wrote), or kiln's own in older checkpoints:
    // the marker is what keeps a square dense weight from being read transposed.
    const TensorLayout layout = layout_of(file, path);
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        const ParamSpec& spec = d.params[i];
        auto found = file.tensors.find(spec.name);
        if (found == file.tensors.end()) fail("{}: no tensor '{}' (a checkpoint of another model?)", path, spec.name);
        std::vector<float> values(spec.size());
        from_torch(spec, found->second, layout, values, path);
        std::copy(values.begin(), values.end(), model.params()[i].begin());
    }
    for (std::size_t i = 0; i < d.states.size(); ++i) {
        const StateSpec& spec = d.states[i];
        auto found = file.tensors.find(spec.name);
        if (found == file.tensors.end())
            fail("{}: no running statistic '{}' (a checkpoint of another model?)", path, spec.name);
        model.states()[i].values.resize(spec.size());
        from_torch(spec, found->second, layout, model.states()[i].values, path);
    }
    Preprocessor preprocessor = Preprocessor::identity(d.input.per_row());
    auto kind = file.metadata.find("preprocess");
    if (kind != file.metadata.end()) {
        // A checkpoint says how its inputs were preprocessed; evaluating without those statistics
        // would silently score different inputs, so each one it needs must be there.
        const auto& kinds = preprocess_kinds();
        if (std::find(kinds.begin(), kinds.end(), kind->second) == kinds.end())
            fail("{}: metadata 'preprocess' is '{}', not a known preprocessing", path, kind->second);
        preprocessor.kind = kind->second;
        for (const char* needed : {"__standardize.mean", "__standardize.scale"})
            if (!file.tensors.count(needed))
                fail("{}: no tensor '{}': the checkpoint's '{}' preprocessing cannot be applied", path, needed,
                     kind->second);
        if ((kind->second == "pca_whiten" || kind->second == "zca_whiten") &&
            !file.tensors.count("__preprocess.projection"))
            fail("{}: no tensor '__preprocess.projection': the checkpoint's '{}' preprocessing cannot be applied", path,
                 kind->second);
    }
    if (auto projection = file.tensors.find("__preprocess.projection"); projection != file.tensors.end()) {
        if (projection->second.values.size() != std::size_t(d.input.per_row()) * d.input.per_row())
            fail("{}: the whitening projection has {} values, expected {}×{}", path, projection->second.values.size(),
                 d.input.per_row(), d.input.per_row());
        preprocessor.projection = Tensor(d.input.per_row(), d.input.per_row());
        preprocessor.projection.values.assign(projection->second.values.begin(), projection->second.values.end());
    }
    auto mean = file.tensors.find("__standardize.mean"), scale = file.tensors.find("__standardize.scale");
    if (mean != file.tensors.end() && scale != file.tensors.end()) {
        if (mean->second.values.size() != std::size_t(d.input.per_row()) ||
            scale->second.values.size() != std::size_t(d.input.per_row()))
            fail("{}: standardization statistics have the wrong size for {} features", path, d.input.per_row());
        preprocessor.mean.values.assign(mean->second.values.begin(), mean->second.values.end());
        preprocessor.scale.values.assign(scale->second.values.begin(), scale->second.values.end());
    }
    return preprocessor;
}

}  // namespace kiln
