// LibTorch's side of the Fashion-MNIST MLP benchmark: the same model, data, standardization and
// recipe as kiln_mlp_bench.cpp. Data is loaded with kiln's loader so both read identical tensors.
// Models: "fashion" (784-256-128-10, batch 128) or "wide" (784-1024-1024-10, batch 256).
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <kiln/data/batches.hpp>
#include <kiln/data/preprocess.hpp>
#include <nlohmann/json.hpp>

struct Mlp : torch::nn::Module {
    torch::nn::Linear fc1, fc2, fc3;
    Mlp(int hidden1, int hidden2) : fc1(784, hidden1), fc2(hidden1, hidden2), fc3(hidden2, 10) {
        register_module("fc1", fc1);
        register_module("fc2", fc2);
        register_module("fc3", fc3);
        for (auto* layer : {&fc1, &fc2}) {  // He normal, zero bias: kiln's initializers for this model
            torch::nn::init::kaiming_normal_((*layer)->weight, 0.0, torch::kFanIn, torch::kReLU);
            torch::nn::init::zeros_((*layer)->bias);
        }
        torch::nn::init::xavier_uniform_(fc3->weight);
        torch::nn::init::zeros_(fc3->bias);
    }
    torch::Tensor forward(torch::Tensor x) { return fc3(torch::relu(fc2(torch::relu(fc1(x))))); }
};

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int epochs = argc > 2 ? std::stoi(argv[2]) : 10;
    const int threads = argc > 3 ? std::stoi(argv[3]) : 1;
    const bool wide = argc > 4 && std::string(argv[4]) == "wide";
    const int batch_size = wide ? 256 : 128;
    using clock = std::chrono::steady_clock;
    torch::set_num_threads(threads);
    torch::manual_seed(0);
    kiln::DataSplit data = kiln::load_data(path);
    kiln::Preprocessor preprocessor = kiln::Preprocessor::fit(data.train.features);
    preprocessor.apply(data.train.features);
    preprocessor.apply(data.test.features);
    auto to_tensor = [](const kiln::Dataset& d) {
        return std::pair{torch::from_blob(const_cast<float*>(d.features.values.data()), {d.size(), 784}).clone(),
                         torch::tensor(std::vector<int64_t>(d.labels.begin(), d.labels.end()))};
    };
    auto [train_x, train_y] = to_tensor(data.train);
    auto [test_x, test_y] = to_tensor(data.test);

    Mlp model(wide ? 1024 : 256, wide ? 1024 : 128);
    torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-3));
    std::vector<double> epoch_seconds, accuracy_by_epoch;
    double training_seconds = 0, seconds_to_target = -1;
    constexpr double target_accuracy = 0.88;
    auto test_accuracy = [&] {  // outside the timed loop, as kiln's side
        torch::NoGradGuard no_grad;
        return model.forward(test_x).argmax(1).eq(test_y).to(torch::kFloat).mean().item<double>();
    };
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        auto order = kiln::shuffled_indices(data.train.size(), uint64_t(epoch));
        auto index = torch::tensor(std::vector<int64_t>(order.begin(), order.end()));
        auto start = clock::now();
        for (int64_t at = 0; at < train_x.size(0); at += batch_size) {
            auto rows = index.slice(0, at, std::min<int64_t>(at + batch_size, train_x.size(0)));
            auto x = train_x.index_select(0, rows), y = train_y.index_select(0, rows);
            optimizer.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
        }
        epoch_seconds.push_back(std::chrono::duration<double>(clock::now() - start).count());
        training_seconds += epoch_seconds.back();
        accuracy_by_epoch.push_back(test_accuracy());
        if (seconds_to_target < 0 && accuracy_by_epoch.back() >= target_accuracy) seconds_to_target = training_seconds;
    }
    torch::NoGradGuard no_grad;
    const double accuracy = accuracy_by_epoch.back();
    double best = 1e30;
    for (int repeat = 0; repeat < 5; ++repeat) {
        auto start = clock::now();
        for (int64_t at = 0; at < test_x.size(0); at += 1000) model.forward(test_x.slice(0, at, at + 1000));
        best = std::min(best, std::chrono::duration<double>(clock::now() - start).count());
    }
    double sum = 0;
    for (std::size_t i = 1; i < epoch_seconds.size(); ++i) sum += epoch_seconds[i];
    nlohmann::json result{
        {"framework", "libtorch " TORCH_VERSION},
        {"model", wide ? "wide" : "fashion"},
        {"epochs", epochs},
        {"seconds_per_epoch", epoch_seconds.size() > 1 ? sum / (epoch_seconds.size() - 1) : epoch_seconds[0]},
        {"first_epoch_seconds", epoch_seconds[0]},
        {"test_accuracy", accuracy},
        {"test_accuracy_by_epoch", accuracy_by_epoch},
        {"seconds_to_0.88", seconds_to_target < 0 ? nlohmann::json() : nlohmann::json(seconds_to_target)},
        {"inference_samples_per_second", test_x.size(0) / best}};
    std::cout << result.dump() << std::endl;
}
