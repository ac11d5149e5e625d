// Checkpoints as safetensors: written atomically (temporary file, fsync, rename), read with every field checked.
#include "kiln/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/error.hpp"

namespace kiln {

namespace {
constexpr const char* format_tag = "kiln";

template <class T> void convert(const char* bytes, std::size_t count, std::vector<float>& out) {
    for (std::size_t i = 0; i < count; ++i) {
        T value;
        std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
        out.push_back(float(value));
    }
}

std::size_t element_size(const std::string& dtype) {
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F64" || dtype == "I64") return 8;
    return 0;
}

void write_all(int fd, const void* data, std::size_t size, const std::string& path) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t written = ::write(fd, bytes, size);
        if (written < 0) fail("{}: write failed: {}", path, std::strerror(errno));
        bytes += written;
        size -= std::size_t(written);
    }
}
}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("{}: cannot open safetensors file: {}", path,
             std::filesystem::exists(path) ? "permission denied" : "file not found");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 8) fail("{}: not a safetensors file (shorter than its 8-byte header length)", path);
    uint64_t header_size;
    std::memcpy(&header_size, bytes.data(), 8);
    if (header_size > bytes.size() - 8)
        fail("{}: not a safetensors file (header length {} exceeds the file)", path, header_size);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.substr(8, header_size));
    } catch (const nlohmann::json::exception& e) {
        fail("{}: corrupt safetensors header: {}", path, e.what());
    }
    if (!header.is_object()) fail("{}: corrupt safetensors header: not a JSON object", path);
    const std::size_t data_start = 8 + header_size;
    SafetensorsFile file;
    for (auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            for (auto& [key, value] : entry.items())
                if (value.is_string()) file.metadata[key] = value.get<std::string>();
            continue;
        }
        try {
            const std::string dtype = entry.at("dtype").get<std::string>();
            const auto shape = entry.at("shape").get<std::vector<int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
            const std::size_t size = element_size(dtype);
            if (size == 0)
                fail("{}: tensor '{}': dtype {} is not supported (expected F32, F64, I32 or I64)", path, name, dtype);
            uint64_t count = 1;
            for (int64_t d : shape) {
                if (d < 0) fail("{}: tensor '{}': negative dimension", path, name);
                count *= uint64_t(d);
            }
            if (offsets.size() != 2 || offsets[1] < offsets[0] || offsets[1] - offsets[0] != count * size ||
                data_start + offsets[1] > bytes.size())
                fail("{}: tensor '{}': data offsets do not match its shape or lie outside the file (truncated?)", path,
                     name);
            NamedTensor tensor{shape, {}};
            tensor.values.reserve(count);
            const char* data = bytes.data() + data_start + offsets[0];
            if (dtype == "F32") convert<float>(data, count, tensor.values);
            else if (dtype == "F64") convert<double>(data, count, tensor.values);
            else if (dtype == "I32") convert<int32_t>(data, count, tensor.values);
            else convert<int64_t>(data, count, tensor.values);
            file.tensors[name] = std::move(tensor);
        } catch (const nlohmann::json::exception& e) {
            fail("{}: tensor '{}': malformed entry: {}", path, name, e.what());
        }
    }
    return file;
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
    nlohmann::json header = nlohmann::json::object();
    if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : file.tensors) {
        const uint64_t bytes = tensor.values.size() * sizeof(float);
        header[name] = {{"dtype", "F32"}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned, as the format recommends
    const uint64_t header_size = text.size();

    namespace fs = std::filesystem;
    const fs::path target = fs::absolute(path);
    const fs::path directory = target.parent_path();
    if (!fs::is_directory(directory)) fail("{}: directory {} does not exist", path, directory.string());
    std::string temporary = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
    int fd = ::mkstemp(temporary.data());
    if (fd < 0) fail("{}: cannot create a temporary file in {}: {}", path, directory.string(), std::strerror(errno));
    try {
        write_all(fd, &header_size, 8, path);
        write_all(fd, text.data(), text.size(), path);
        for (const auto& [name, tensor] : file.tensors)
            write_all(fd, tensor.values.data(), tensor.values.size() * sizeof(float), path);
        if (::fsync(fd) != 0) fail("{}: fsync failed: {}", path, std::strerror(errno));
        ::close(fd);
        fd = -1;
        if (::rename(temporary.c_str(), target.c_str()) != 0) fail("{}: rename failed: {}", path, std::strerror(errno));
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(temporary.c_str());
        throw;
    }
    int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (directory_fd >= 0) {  // make the rename itself durable
        ::fsync(directory_fd);
        ::close(directory_fd);
    }
}

namespace {
constexpr const char* optimizer_prefix = "__optimizer.";
std::string exact(double v) { return fmt::format("{:.17g}", v); }
// strtod, not stod: stod throws on subnormals (NAdam's μ product underflows towards 0 in long runs).
double parse_double(const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw std::invalid_argument(text);
    return value;
}

void save_progress(SafetensorsFile& file, const TrainingProgress& p) {
    file.metadata["step"] = std::to_string(p.step);
    file.metadata["seed"] = std::to_string(p.seed);
    file.metadata["optimizer"] = p.optimizer;
    file.metadata["best_validation_loss"] = exact(p.best_validation_loss);
    file.metadata["best_epoch"] = std::to_string(p.best_epoch);
    file.metadata["initial_loss"] = exact(p.initial_loss);
    for (const auto& [name, value] : p.optimizer_state.scalars) file.metadata[optimizer_prefix + name] = exact(value);
    for (const auto& [name, values] : p.optimizer_state.buffers)
        file.tensors[optimizer_prefix + name] = {{int64_t(values.size())}, values};
}

TrainingProgress load_progress(const std::string& path, const SafetensorsFile& file) {
    auto field = [&](const std::string& key) {
        auto found = file.metadata.find(key);
        if (found == file.metadata.end())
            fail("{}: no '{}' in the metadata: not a training checkpoint (written by train --checkpoint)", path, key);
        return found->second;
    };
    TrainingProgress p;
    try {
        p.epoch = std::stoi(field("epoch"));
        p.step = std::stol(field("step"));
        p.seed = std::stoull(field("seed"));
        p.best_validation_loss = parse_double(field("best_validation_loss"));
        p.best_epoch = std::stoi(field("best_epoch"));
        p.initial_loss = parse_double(field("initial_loss"));
        for (const auto& [key, value] : file.metadata)
            if (key.starts_with(optimizer_prefix))
                p.optimizer_state.scalars[key.substr(std::strlen(optimizer_prefix))] = parse_double(value);
    } catch (const std::logic_error&) {
        fail("{}: malformed training metadata", path);
    }
    p.optimizer = field("optimizer");
    for (const auto& [name, tensor] : file.tensors)
        if (name.starts_with(optimizer_prefix))
            p.optimizer_state.buffers[name.substr(std::strlen(optimizer_prefix))] = tensor.values;
    return p;
}
}  // namespace

namespace {
std::vector<float> plain(const Tensor& t) { return {t.values.begin(), t.values.end()}; }
}  // namespace

void save_checkpoint(const std::string& path, const Model& model, const Preprocessor& preprocessor, int epoch,
                     const TrainingProgress* progress) {
    const ModelDescriptor& d = model.descriptor();
    SafetensorsFile file;
    file.metadata = {{"format", format_tag}, {"model", d.name}, {"epoch", std::to_string(epoch)}};
    if (progress) save_progress(file, *progress);
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        auto values = model.params()[i];
        file.tensors[d.params[i].name] = {d.params[i].shape().dims(), {values.begin(), values.end()}};  // its rank kept
    }
    for (std::size_t i = 0; i < d.states.size(); ++i)
        file.tensors[d.states[i].name] = {d.states[i].shape().dims(), plain(model.states()[i])};
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
    SafetensorsFile file = read_safetensors(path);
    if (progress) *progress = load_progress(path, file);
    auto tag = file.metadata.find("model");
    if (tag != file.metadata.end() && tag->second != d.name)
        fail("{}: checkpoint of model '{}', not of '{}'", path, tag->second, d.name);
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        const ParamSpec& spec = d.params[i];
        auto found = file.tensors.find(spec.name);
        if (found == file.tensors.end()) fail("{}: no tensor '{}' (a checkpoint of another model?)", path, spec.name);
        const NamedTensor& t = found->second;
        bool shape_ok = t.values.size() == spec.size() &&
                        (t.shape == spec.shape().dims() || (spec.rows == 1 && t.shape == std::vector<int64_t>{spec.cols}));
        if (!shape_ok)
            fail("{}: tensor '{}' has {} values, model '{}' expects {}", path, spec.name, t.values.size(), d.name,
                 spec.shape().text());
        std::copy(t.values.begin(), t.values.end(), model.params()[i].begin());
    }
    for (std::size_t i = 0; i < d.states.size(); ++i) {
        const StateSpec& spec = d.states[i];
        auto found = file.tensors.find(spec.name);
        if (found == file.tensors.end())
            fail("{}: no running statistic '{}' (a checkpoint of another model?)", path, spec.name);
        if (found->second.values.size() != spec.size())
            fail("{}: running statistic '{}' has {} values, model '{}' expects {}", path, spec.name,
                 found->second.values.size(), d.name, spec.size());
        model.states()[i].values.assign(found->second.values.begin(), found->second.values.end());
    }
    Preprocessor preprocessor = Preprocessor::identity(d.input.per_row());
    if (auto kind = file.metadata.find("preprocess"); kind != file.metadata.end()) preprocessor.kind = kind->second;
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
