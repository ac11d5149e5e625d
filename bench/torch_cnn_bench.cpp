// LibTorch's side of the Fashion-MNIST CNN benchmark: examples/fashion_cnn's network (conv 3×3 32
// → BN → ReLU → max-pool 2 → conv 3×3 64 → BN → ReLU → max-pool 2 → dense 128 → ReLU → dropout
// 0.3 → dense 10), its initializers and its recipe (Adam 1e-3, batch 128, pixels standardized by
// the training set's mean and std — kiln's `--preprocess channel` for one channel), on data loaded
// by kiln's loader so both read identical tensors. Prints one JSON line: seconds per training
// epoch, test accuracy, inference samples/s, and whether LibTorch runs its convolutions on oneDNN.
// Usage: torch_cnn_bench [fashion-mnist-dir] [epochs] [threads] [flush]
// `flush` sets LibTorch's flush-denormal mode (torch.set_flush_denormal(True)): subnormal floats
// become zero instead of taking the CPU's slow path.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <kiln/data/batches.hpp>
#include <kiln/data/preprocess.hpp>
#include <nlohmann/json.hpp>

struct Cnn : torch::nn::Module {
    // No conv biases, as kiln's model: the batch norm after each cancels one.
    torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)};
    torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)};
    torch::nn::BatchNorm2d bn1{32}, bn2{64};
    torch::nn::Linear fc1{64 * 7 * 7, 128}, fc2{128, 10};
    torch::nn::Dropout drop{0.3};
    Cnn() {
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("bn1", bn1);
        register_module("bn2", bn2);
        register_module("fc1", fc1);
        register_module("fc2", fc2);
        register_module("drop", drop);
        // kiln's initializers for this model: the weights keep LibTorch's defaults (kiln's
        // init::torch_default), the biases start at zero.
        for (torch::Tensor* b : {&fc1->bias, &fc2->bias}) torch::nn::init::zeros_(*b);
    }
    torch::Tensor forward(torch::Tensor x) {
        x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 2);
        x = torch::max_pool2d(torch::relu(bn2(conv2(x))), 2);
        return fc2(drop(torch::relu(fc1(x.flatten(1)))));
    }
};

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const int epochs = argc > 2 ? std::stoi(argv[2]) : 10;
    const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
    const int batch_size = 128;
    using clock = std::chrono::steady_clock;
    torch::set_num_threads(threads);
    if (argc > 4 && std::string(argv[4]) != "flush") {
        std::cerr << "torch_cnn_bench: the fourth argument may only be 'flush', got '" << argv[4] << "'\n";
        return 1;
    }
    const bool flush_denormal = argc > 4;
    if (flush_denormal && !at::globalContext().setFlushDenormal(true))
        throw std::runtime_error("this CPU cannot flush denormals");
    torch::manual_seed(0);
    kiln::DataSplit data = kiln::load_data(path);
    kiln::Preprocessor preprocessor = kiln::Preprocessor::fit(data.train.features, {"channel", 1});
    preprocessor.apply(data.train.features);
    preprocessor.apply(data.test.features);
    auto to_tensor = [](const kiln::Dataset& d) {
        return std::pair{torch::from_blob(const_cast<float*>(d.features.values.data()), {d.size(), 1, 28, 28}).clone(),
                         torch::tensor(std::vector<int64_t>(d.labels.begin(), d.labels.end()))};
    };
    auto [train_x, train_y] = to_tensor(data.train);
    auto [test_x, test_y] = to_tensor(data.test);

    Cnn model;
    torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-3));
    std::vector<double> epoch_seconds;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        model.train();
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
        std::cerr << "epoch " << epoch << ": " << epoch_seconds.back() << " s\n";
    }
    model.eval();
    torch::NoGradGuard no_grad;
    double correct = 0, best = 1e30;
    for (int64_t at = 0; at < test_x.size(0); at += 1000)
        correct += model.forward(test_x.slice(0, at, at + 1000)).argmax(1).eq(test_y.slice(0, at, at + 1000)).sum().item<double>();
    for (int repeat = 0; repeat < 3; ++repeat) {
        auto start = clock::now();
        for (int64_t at = 0; at < test_x.size(0); at += 1000) model.forward(test_x.slice(0, at, at + 1000));
        best = std::min(best, std::chrono::duration<double>(clock::now() - start).count());
    }
    double sum = 0;
    for (std::size_t i = 1; i < epoch_seconds.size(); ++i) sum += epoch_seconds[i];
    nlohmann::json result{
        {"framework", "libtorch " TORCH_VERSION},
        {"model", "fashion_cnn"},
        {"mkldnn", at::hasMKLDNN()},
        {"threads", threads},
        {"flush_denormal", flush_denormal},
        {"epochs", epochs},
        {"seconds_per_epoch", epoch_seconds.size() > 1 ? sum / (epoch_seconds.size() - 1) : epoch_seconds[0]},
        {"first_epoch_seconds", epoch_seconds[0]},
        {"test_accuracy", correct / test_x.size(0)},
        {"inference_samples_per_second", test_x.size(0) / best}};
    std::cout << result.dump() << std::endl;
}
