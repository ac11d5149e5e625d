// The safetensors format: read with every field checked as the reference implementation checks
// it, written atomically (temporary file, fsync, rename).
#include "kiln/safetensors.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "data/read_file.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace {
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

// A JSON array of whole numbers in [0, 2^63): JSON's 2e30 or -8 would otherwise reach an integer
// conversion (undefined for 2e30: the fuzzer's first finding) or wrap to an offset near 2^64.
std::vector<int64_t> whole_numbers(const nlohmann::json& value, const std::string& path, const std::string& tensor,
                                   const char* field) {
    if (!value.is_array()) fail("{}: tensor '{}': {} must be an array of whole numbers", path, tensor, field);
    std::vector<int64_t> numbers;
    for (const nlohmann::json& element : value) {
        if (!element.is_number_unsigned() || element.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            // (a nested value is named by its type: dump() recurses, and a header may nest 10^7 deep)
            fail("{}: tensor '{}': {} holds {}, expected a whole number in [0, 2^63)", path, tensor, field,
                 element.is_primitive() ? element.dump() : std::string("an ") + element.type_name());
        numbers.push_back(int64_t(element.get<uint64_t>()));
    }
    return numbers;
}

struct ByteRange {
    uint64_t begin, end;
    std::string name;
};
}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
    // The file's real size, never a size the header claims.
    return parse_safetensors(detail::read_regular_file(path, "cannot open safetensors file"), path);
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& path) {
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
            const std::vector<int64_t> shape = whole_numbers(entry.at("shape"), path, name, "shape");
            const std::vector<int64_t> starts_ends =
                whole_numbers(entry.at("data_offsets"), path, name, "data_offsets");
            const std::vector<uint64_t> offsets(starts_ends.begin(), starts_ends.end());
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
            NamedTensor tensor{shape, {}, dtype};
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
    std::vector<std::string> data;  // each tensor's bytes, in the header's (the map's) order
    for (const auto& [name, tensor] : file.tensors) {
        if (tensor.dtype == "I64") {
            std::vector<int64_t> counts(tensor.values.size());
            for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = std::llround(tensor.values[i]);
            data.emplace_back(reinterpret_cast<const char*>(counts.data()), counts.size() * sizeof(int64_t));
        } else if (tensor.dtype == "F32") {
            data.emplace_back(reinterpret_cast<const char*>(tensor.values.data()), tensor.values.size() * sizeof(float));
        } else {
            fail("{}: tensor '{}': cannot write dtype {} (F32 or I64)", path, name, tensor.dtype);
        }
        const uint64_t bytes = data.back().size();
        header[name] = {{"dtype", tensor.dtype}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
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
        for (const std::string& bytes : data) write_all(fd, bytes.data(), bytes.size(), path);
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

}  // namespace kiln
