// examples/digits_cnn's generated training step (convolutions with padding and bias, per-channel
// batch norm on batch statistics, ReLU, max pooling, global average pooling, a dense head) against
// PyTorch's float64 one on the same batch and parameters, read from a committed fixture
// (tests/fixtures/digits_cnn_torch.safetensors, made by make_digits_cnn_fixture.cpp): PyTorch is
// not needed to run this test.
#include <catch2/catch.hpp>
#include <cmath>
#include <kiln/checkpoint.hpp>
#include <kiln/model.hpp>

#include "digits_cnn.kiln.h"

TEST_CASE("digits_cnn: loss and gradients equal PyTorch's (committed fixture)", "[e2e]") {
    const kiln::SafetensorsFile fixture = kiln::read_safetensors(KILN_FIXTURES "/digits_cnn_torch.safetensors");
    const kiln::ModelDescriptor& d = kiln::models::digits_cnn();
    kiln::Model model(d);
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        const kiln::NamedTensor& t = fixture.tensors.at(d.params[i].name);
        REQUIRE(t.shape == d.params[i].shape().dims());
        std::copy(t.values.begin(), t.values.end(), model.params()[i].begin());
    }
    const kiln::NamedTensor &x = fixture.tensors.at("x"), &y = fixture.tensors.at("y");
    const int n = int(x.shape.at(0));
    kiln::Batch batch;
    batch.features = kiln::Tensor(n, 64);
    batch.features.values.assign(x.values.begin(), x.values.end());
    for (float label : y.values) batch.labels.push_back(int32_t(label));
    const float loss = model.forward_backward(batch);
    CHECK(loss == Approx(fixture.tensors.at("loss").values.at(0)).epsilon(1e-5));
    for (std::size_t i = 0; i < d.params.size(); ++i) {
        const std::vector<float>& want = fixture.tensors.at("grad." + d.params[i].name).values;
        const auto got = model.gradients()[i];
        REQUIRE(got.size() == want.size());
        double scale = 0, worst = 0;
        for (std::size_t k = 0; k < want.size(); ++k) {
            scale = std::max(scale, double(std::abs(want[k])));
            worst = std::max(worst, std::abs(double(got[k]) - want[k]));
        }
        INFO(d.params[i].name << ": max |kiln − torch| = " << worst << ", max |torch| = " << scale);
        // conv1.bias feeds batch norm: its gradient is 0 in exact arithmetic (PyTorch: ~1e-16),
        // float32 sums leave ~1e-7 — hence the absolute floor.
        CHECK(worst <= 2e-5 * scale + 1e-6);
    }
}
