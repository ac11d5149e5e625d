// kiln's compile-time-derived gradients against PyTorch autograd (LibTorch 1.13) on the Fashion
// MLP: identical parameters and batch, loss and every gradient compared. Built only where Debian's
// libtorch-dev is installed (label: torch).
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <kiln/init.hpp>
#include <kiln/model.hpp>
#include <random>

#include "fashion_mlp.kiln.h"

TEST_CASE("fashion_mlp: loss and gradients equal PyTorch autograd's", "[torch]") {
    const kiln::ModelDescriptor& d = kiln::models::fashion_mlp();
    kiln::Model model(d);
    kiln::initialize(model.params(), d.params, 4);
    std::mt19937_64 rng(8);
    std::normal_distribution<float> normal(0, 1);
    for (std::size_t i = 0; i < d.params.size(); ++i)
        if (d.params[i].rows == 1)
            for (float& b : model.params()[i]) b = 0.1f * normal(rng);  // non-zero biases, so their gradients matter
    kiln::Batch batch;
    const int n = 37;
    batch.features = kiln::Tensor(n, 784);
    for (float& v : batch.features.values) v = normal(rng);
    for (int i = 0; i < n; ++i) batch.labels.push_back(int32_t(rng() % 10));
    const float kiln_loss = model.forward_backward(batch);

    // PyTorch on the same numbers; kiln stores weights [in × out] and computes x·W + b.
    std::vector<torch::Tensor> params;
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        std::vector<float> values = model.params()[i].dense();
        params.push_back(
            torch::from_blob(values.data(), {d.params[i].rows, d.params[i].cols}).clone().set_requires_grad(true));
    }
    auto x = torch::from_blob(batch.features.values.data(), {n, 784}).clone();
    auto y = torch::tensor(std::vector<int64_t>(batch.labels.begin(), batch.labels.end()));
    auto h1 = torch::relu(x.matmul(params[0]) + params[1]);
    auto h2 = torch::relu(h1.matmul(params[2]) + params[3]);
    auto loss = torch::nn::functional::cross_entropy(h2.matmul(params[4]) + params[5], y);
    loss.backward();

    CHECK(kiln_loss == Approx(loss.item<float>()).epsilon(1e-5));
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        auto expected = params[i].grad().contiguous();
        const float* want = expected.data_ptr<float>();
        auto got = model.gradients()[i];
        double scale = expected.abs().max().item<double>();
        double worst = 0;
        for (std::size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(double(got[k]) - want[k]));
        INFO(d.params[i].name << ": max |kiln − torch| = " << worst << ", max |torch| = " << scale);
        CHECK(worst <= 1e-5 * scale + 1e-8);
    }
}
