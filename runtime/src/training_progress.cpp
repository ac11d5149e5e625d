// A training checkpoint's progress: the metadata fields that let a run resume where it stopped.
#include "kiln/training_progress.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "kiln/error.hpp"

namespace kiln {

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

}  // namespace

void record_training_progress(SafetensorsFile& file, const TrainingProgress& p) {
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

TrainingProgress read_training_progress(const SafetensorsFile& file, const std::string& path) {
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
    integer("step", 0L, long(1) << 62, p.step);  // far from overflowing as training counts on
    integer("seed", uint64_t(0), std::numeric_limits<uint64_t>::max(), p.seed);
    integer("best_epoch", 0, p.epoch, p.best_epoch);
    if (file.metadata.count("batch")) integer("batch", 0, std::numeric_limits<int>::max(), p.batch);
    if (auto schedule = file.metadata.find("schedule"); schedule != file.metadata.end()) p.schedule = schedule->second;
    // Numbers as written by exact(): a NaN or infinity is kept only where the run itself writes one
    // (no validation loss yet: infinite; the loss or LR not recorded: NaN). An optimizer scalar (a
    // step count, NAdam's μ product) that is not finite would poison every later update.
    enum class Allow { finite, infinite, nan };
    auto number = [&](const std::string& key, const std::string& text, Allow allow) {
        double value;
        try {
            value = parse_double(text);
        } catch (const std::logic_error&) {
            fail("{}: metadata '{}' is '{}', expected a number", path, key, text);
        }
        const bool ok = std::isfinite(value) || (allow == Allow::infinite && value == INFINITY) ||
                        (allow == Allow::nan && std::isnan(value));
        if (!ok) fail("{}: metadata '{}' is '{}', expected a finite number", path, key, text);
        return value;
    };
    p.best_validation_loss = number("best_validation_loss", field("best_validation_loss"), Allow::infinite);
    p.initial_loss = number("initial_loss", field("initial_loss"), Allow::nan);
    if (file.metadata.count("lr")) p.lr = number("lr", field("lr"), Allow::nan);
    for (const auto& [key, value] : file.metadata)
        if (key.starts_with(optimizer_prefix))
            p.optimizer_state.scalars[key.substr(std::strlen(optimizer_prefix))] = number(key, value, Allow::finite);
    p.optimizer = field("optimizer");
    for (const auto& [name, tensor] : file.tensors)
        if (name.starts_with(optimizer_prefix))
            p.optimizer_state.buffers[name.substr(std::strlen(optimizer_prefix))] = tensor.values;
    return p;
}

}  // namespace kiln
