// Checkpoints as safetensors: written atomically (temporary file, fsync, rename), read with every field checked.
#include "kiln/checkpoint.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/read_file.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace {
constexpr const char* format_tag = "kiln";

template <class T> void convert(const char* bytes, std::size_t count, std::vector<float>& out) {
    for (std::size_t i = 0; i < count; ++i) {
        T value;
        std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
        if constexpr (std::is_same_v<T, double>)  // out of float's range is undefined behaviour: keep it infinite
            if (std::isfinite(value) && std::abs(value) > double(std::numeric_limits<float>::max())) value = INFINITY;
        out.push_back(float(value));
    }
}

std::size_t element_size(const std::string& dtype) {
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F64" || dtype == "I64") return 8;
    return 0;
}

::mode_t current_umask() {
    const ::mode_t mask = ::umask(0);
    ::umask(mask);
    return mask;
}

// A save killed before its rename leaves ".<name>.XXXXXX" behind. Such a file is removed by the
// next save to the same path, unless a live save still holds its lock.
void remove_abandoned_temporaries(const std::filesystem::path& directory, const std::string& prefix) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        const std::string name = entry.path().filename().string();
        if (name.size() != prefix.size() + 6 || !name.starts_with(prefix)) continue;
        const int fd = ::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW);
        if (fd < 0) continue;
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(entry.path().c_str());
        ::close(fd);
    }
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

// Checked arithmetic: a header's numbers are untrusted, so nothing computed from them may wrap.
bool checked_multiply(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

// As the reference implementation: the header is at most 100 MB, and the tensors' byte ranges are
// in range, non-overlapping and contiguous, covering the data section exactly (no hidden bytes).
constexpr uint64_t max_header_size = 100'000'000;

std::string read_regular_file(const std::string& path) {
    namespace fs = std::filesystem;
    if (auto why = detail::unreadable_reason(path)) fail("{}: cannot open safetensors file: {}", path, *why);
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open safetensors file: permission denied", path);
    std::error_code error;
    const uint64_t size = fs::file_size(path, error);
    if (error) fail("{}: cannot read its size: {}", path, error.message());
    std::string bytes(size, '\0');  // the file's real size, never a size the header claims
    in.read(bytes.data(), std::streamsize(size));
    if (uint64_t(in.gcount()) != size) fail("{}: read {} of its {} bytes", path, in.gcount(), size);
    return bytes;
}

struct ByteRange {
    uint64_t begin, end;
    std::string name;
};
}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
    const std::string bytes = read_regular_file(path);
    if (bytes.size() < 8) fail("{}: not a safetensors file (shorter than its 8-byte header length)", path);
    uint64_t header_size;
    std::memcpy(&header_size, bytes.data(), 8);
    if (header_size > bytes.size() - 8)
        fail("{}: not a safetensors file (header length {} exceeds the file)", path, header_size);
    if (header_size > max_header_size)
        fail("{}: safetensors header of {} bytes exceeds the format's limit of {}", path, header_size, max_header_size);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.substr(8, header_size));
    } catch (const nlohmann::json::exception& e) {
        fail("{}: corrupt safetensors header: {}", path, e.what());
    }
    if (!header.is_object()) fail("{}: corrupt safetensors header: not a JSON object", path);
    const uint64_t data_start = 8 + header_size, data_size = bytes.size() - data_start;
    SafetensorsFile file;
    std::vector<ByteRange> ranges;
    for (auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) fail("{}: __metadata__ must be an object of strings", path);
            for (auto& [key, value] : entry.items()) {
                if (!value.is_string()) fail("{}: __metadata__ field '{}' is not a string", path, key);
                file.metadata[key] = value.get<std::string>();
            }
            continue;
        }
        try {
            if (!entry.is_object())
                fail("{}: tensor '{}': expected an object with dtype, shape and data_offsets", path, name);
            const std::string dtype = entry.at("dtype").get<std::string>();
            const auto shape = entry.at("shape").get<std::vector<int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
            const std::size_t size = element_size(dtype);
            if (size == 0)
                fail("{}: tensor '{}': dtype {} is not supported (expected F32, F64, I32 or I64)", path, name, dtype);
            uint64_t count = 1, byte_length = 0;
            for (int64_t d : shape) {
                if (d < 0) fail("{}: tensor '{}': negative dimension {}", path, name, d);
                if (!checked_multiply(count, uint64_t(d), count))
                    fail("{}: tensor '{}': its shape's element count overflows", path, name);
            }
            if (!checked_multiply(count, size, byte_length))
                fail("{}: tensor '{}': its byte length overflows", path, name);
            if (offsets.size() != 2)
                fail("{}: tensor '{}': data_offsets must be [begin, end], found {} numbers", path, name,
                     offsets.size());
            if (offsets[0] > offsets[1] || offsets[1] > data_size)
                fail("{}: tensor '{}': data offsets [{}, {}] lie outside the data section of {} bytes (truncated?)",
                     path, name, offsets[0], offsets[1], data_size);
            if (offsets[1] - offsets[0] != byte_length)
                fail("{}: tensor '{}': data offsets [{}, {}] hold {} bytes, its {} shape needs {}", path, name,
                     offsets[0], offsets[1], offsets[1] - offsets[0], dtype, byte_length);
            ranges.push_back({offsets[0], offsets[1], name});
            NamedTensor tensor{shape, {}};
            tensor.values.reserve(count);  // bounded: count * size bytes are in the file
            const char* data = bytes.data() + data_start + offsets[0];
            if (dtype == "F32") convert<float>(data, count, tensor.values);
            else if (dtype == "F64") convert<double>(data, count, tensor.values);
            else if (dtype == "I32") convert<int32_t>(data, count, tensor.values);
            else convert<int64_t>(data, count, tensor.values);
            for (std::size_t i = 0; i < tensor.values.size(); ++i)
                if (!std::isfinite(tensor.values[i]))
                    fail("{}: tensor '{}': element {} is {} (as a float)", path, name, i,
                         std::isnan(tensor.values[i]) ? "NaN" : "infinite");
            file.tensors[name] = std::move(tensor);
        } catch (const nlohmann::json::exception& e) {
            fail("{}: tensor '{}': malformed entry: {}", path, name, e.what());
        }
    }
    std::sort(ranges.begin(), ranges.end(),
              [](auto& a, auto& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    uint64_t covered = 0;
    for (const ByteRange& r : ranges) {
        if (r.begin != covered)
            fail("{}: tensor '{}': its data starts at byte {} of the data section, expected {} ({})", path, r.name,
                 r.begin, covered, r.begin < covered ? "it overlaps another tensor" : "a gap before it");
        covered = r.end;
    }
    if (covered != data_size)
        fail("{}: the tensors cover {} of the data section's {} bytes (bytes inserted or appended?)", path, covered,
             data_size);
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
    std::error_code error;
    // A symlinked path is written through: the file it points to is replaced, the link stays.
    // (followed link by link, so that a link to a file not yet written works too).
    fs::path target = fs::absolute(path);
    for (int hops = 0; fs::is_symlink(fs::symlink_status(target, error)); ++hops) {
        if (hops == 40) fail("{}: too many levels of symbolic links", path);
        const fs::path link = fs::read_symlink(target, error);
        if (error) fail("{}: cannot read the symbolic link: {}", path, error.message());
        target = link.is_absolute() ? link : target.parent_path() / link;
    }
    const fs::path directory = target.parent_path();
    if (!fs::is_directory(directory)) fail("{}: directory {} does not exist", path, directory.string());
    const std::string temporary_prefix = "." + target.filename().string() + ".";
    remove_abandoned_temporaries(directory, temporary_prefix);
    std::string temporary = (directory / (temporary_prefix + "XXXXXX")).string();
    int fd = ::mkstemp(temporary.data());
    if (fd < 0) fail("{}: cannot create a temporary file in {}: {}", path, directory.string(), std::strerror(errno));
    ::flock(fd, LOCK_EX);  // held until closed: marks the file as a live save, not a crashed one's leftover
    try {
        // The replacement keeps the mode of the file it replaces; a new file follows the umask
        // (mkstemp's 0600 would otherwise make every checkpoint private).
        struct stat existing;
        const ::mode_t mode =
            ::stat(target.c_str(), &existing) == 0 ? existing.st_mode & 07777 : 0666 & ~current_umask();
        if (::fchmod(fd, mode) != 0) fail("{}: cannot set the file mode: {}", path, std::strerror(errno));
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
    file.metadata["batch"] = std::to_string(p.batch);
    file.metadata["lr"] = exact(p.lr);
    file.metadata["schedule"] = p.schedule;
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
    // Whole-string integers in range: stoi would read "1e99" as 1 and accept an epoch of -1000000.
    auto integer = [&]<class T>(const std::string& key, T low, T high, T& out) {
        const std::string text = field(key);
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (error != std::errc() || end != text.data() + text.size() || out < low || out > high)
            fail("{}: metadata '{}' is '{}', expected an integer in [{}, {}]", path, key, text, low, high);
    };
    TrainingProgress p;
    constexpr int max_epoch = 100'000'000;
    integer("epoch", 0, max_epoch, p.epoch);
    integer("step", 0L, std::numeric_limits<long>::max(), p.step);
    integer("seed", uint64_t(0), std::numeric_limits<uint64_t>::max(), p.seed);
    integer("best_epoch", 0, p.epoch, p.best_epoch);
    if (file.metadata.count("batch")) integer("batch", 0, std::numeric_limits<int>::max(), p.batch);
    if (auto schedule = file.metadata.find("schedule"); schedule != file.metadata.end()) p.schedule = schedule->second;
    try {
        p.best_validation_loss = parse_double(field("best_validation_loss"));
        p.initial_loss = parse_double(field("initial_loss"));
        if (file.metadata.count("lr")) p.lr = parse_double(field("lr"));
        for (const auto& [key, value] : file.metadata)
            if (key.starts_with(optimizer_prefix))
                p.optimizer_state.scalars[key.substr(std::strlen(optimizer_prefix))] = parse_double(value);
    } catch (const std::logic_error&) {
        fail("{}: malformed training metadata (a loss or optimizer scalar is not a number)", path);
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
        bool shape_ok =
            t.values.size() == spec.size() &&
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
