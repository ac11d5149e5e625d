// The set-up every command of the model binary starts from, written once: the data set named by
// --data (loaded and checked against the model), a model with fresh or checkpointed parameters,
// and the preprocessing that goes with them.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include <kiln/contract/model_descriptor.hpp>

#include "kiln/data/dataset.hpp"
#include "kiln/data/preprocess.hpp"
#include "kiln/model.hpp"

namespace kiln::cli {

// --data, and --image-shape for data whose rows have no shape of their own (CSV).
struct DataFlags {
    std::string path;
    std::string image_shape;  // "C,H,W"; empty: the files' own shape (IDX), or none (CSV)
};

class Session {
public:
    explicit Session(const ModelDescriptor& model) : model(model) {}
    const ModelDescriptor& model;

    // The data set at `flags.path` (an IDX directory or a CSV file) with the image shape the flags
    // declare, both splits checked against the model's input and labels: bad data stops here,
    // before any training.
    DataSplit data(const DataFlags& flags) const;
    // A model whose parameters are drawn from their initializers with `seed`.
    Model initialized_model(uint64_t seed) const;

    struct Checkpointed {
        Model model;
        Preprocessor preprocessor;  // what the checkpoint's run fitted on its training set
    };
    // A model with a checkpoint's parameters and running statistics.
    Checkpointed checkpointed_model(const std::string& path) const;

    struct Trained {
        Model model;
        Dataset test;  // preprocessed as the checkpoint's run preprocessed its training set
    };
    // A checkpoint's model and the test split of `data_path` (eval, predict).
    Trained trained_model(const std::string& checkpoint, const DataFlags& data) const;
};

// A command's result on stdout: one JSON object on one line.
void print_result(const nlohmann::json& result);

}  // namespace kiln::cli
