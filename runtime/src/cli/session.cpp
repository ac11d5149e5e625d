// The commands' shared set-up: data loading and checking, fresh and checkpointed models.
#include "session.hpp"

#include <iostream>

#include "kiln/checkpoint.hpp"
#include "kiln/data/batches.hpp"
#include "kiln/init.hpp"

namespace kiln::cli {

DataSplit Session::data(const std::string& path) const {
    DataSplit data = load_data(path);
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

Session::Trained Session::trained_model(const std::string& checkpoint, const std::string& data_path) const {
    Checkpointed loaded = checkpointed_model(checkpoint);
    DataSplit split = data(data_path);
    loaded.preprocessor.apply(split.test.features);
    return {std::move(loaded.model), std::move(split.test)};
}

void print_result(const nlohmann::json& result) { std::cout << result.dump() << std::endl; }

}  // namespace kiln::cli
