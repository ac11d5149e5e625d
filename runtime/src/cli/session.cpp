// The commands' shared set-up: data loading and checking, fresh and checkpointed models.
#include "session.hpp"

#include <array>
#include <charconv>
#include <iostream>

#include "kiln/checkpoint.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "kiln/init.hpp"

namespace kiln::cli {

namespace {
// "C,H,W": three positive integers.
std::array<int, 3> parse_image_shape(const std::string& text) {
    std::array<int, 3> dims{};
    const char* at = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        const auto [next, error] = std::from_chars(at, end, dims[i]);
        const bool separator_ok = i < 2 ? next != end && *next == ',' : next == end;
        if (error != std::errc() || dims[i] < 1 || !separator_ok)
            fail("--image-shape: '{}' is not C,H,W (three positive integers, e.g. 1,28,28)", text);
        at = next + 1;
    }
    return dims;
}
}  // namespace

DataSplit Session::data(const DataFlags& flags) const {
    DataSplit data = load_data(flags.path);
    if (!flags.image_shape.empty()) {
        const auto [channels, height, width] = parse_image_shape(flags.image_shape);
        declare_image_shape(data, channels, height, width);
    }
    check_data_fits(data.train, model);
    check_data_fits(data.test, model);
    return data;
}

Model Session::initialized_model(uint64_t seed) const {
    Model fresh(model);
    initialize(fresh.params(), model.params, seed);
    return fresh;
}

Session::Checkpointed Session::checkpointed_model(const std::string& path) const {
    Model loaded(model);
    Preprocessor preprocessor = load_checkpoint(path, loaded);
    return {std::move(loaded), std::move(preprocessor)};
}

Session::Trained Session::trained_model(const std::string& checkpoint, const DataFlags& data_flags) const {
    Checkpointed loaded = checkpointed_model(checkpoint);
    DataSplit split = data(data_flags);
    loaded.preprocessor.apply(split.test.features);
    return {std::move(loaded.model), std::move(split.test)};
}

void print_result(const nlohmann::json& result) {
    if (distributed::root()) std::cout << result.dump() << std::endl;  // a data-parallel job answers once
}

}  // namespace kiln::cli
